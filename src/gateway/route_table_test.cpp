#include "gateway/route_table.hpp"

#include <gtest/gtest.h>

namespace plume::gateway {
namespace {

using Rules = std::vector<std::pair<std::string, std::string>>;

TEST(RouteTable, KeysAreAPathAHostOrBoth) {
  auto path = parse_route_key("/api/service");
  EXPECT_EQ(path.host, "");
  EXPECT_EQ(path.path, "/api/service");
  auto host = parse_route_key("example.com");
  EXPECT_EQ(host.host, "example.com");
  EXPECT_EQ(host.path, "");
  auto both = parse_route_key("example.com:8080/api");
  EXPECT_EQ(both.host, "example.com:8080");
  EXPECT_EQ(both.path, "/api");
}

TEST(RouteTable, PathPrefixesMatchAtSlashBoundaries) {
  auto key = parse_route_key("/api/service");
  EXPECT_TRUE(route_key_matches(key, "any", "/api/service"));
  EXPECT_TRUE(route_key_matches(key, "any", "/api/service/1"));
  EXPECT_FALSE(route_key_matches(key, "any", "/api/services"));
  EXPECT_FALSE(route_key_matches(key, "any", "/api"));
  EXPECT_TRUE(route_key_matches(parse_route_key("/"), "any", "/anything"));
}

TEST(RouteTable, HostKeysMatchTheHostHeaderWithOrWithoutPort) {
  auto key = parse_route_key("api.example.com");
  EXPECT_TRUE(route_key_matches(key, "api.example.com", "/x"));
  EXPECT_TRUE(route_key_matches(key, "API.example.com:8080", "/x"));
  EXPECT_FALSE(route_key_matches(key, "www.example.com", "/x"));
  auto with_port = parse_route_key("api.example.com:8080");
  EXPECT_TRUE(route_key_matches(with_port, "api.example.com:8080", "/"));
  EXPECT_FALSE(route_key_matches(with_port, "api.example.com:9090", "/"));
  auto both = parse_route_key("api.example.com/v1");
  EXPECT_TRUE(route_key_matches(both, "api.example.com", "/v1/users"));
  EXPECT_FALSE(route_key_matches(both, "api.example.com", "/v2/users"));
  EXPECT_FALSE(route_key_matches(both, "other.com", "/v1/users"));
}

TEST(PathRewriter, TheReferenceArchitectureExampleRewritesApiServiceToApi) {
  PathRewriter rewriter(Rules{{"^/api/service", "/api"}});
  EXPECT_EQ(rewriter.apply("/api/service/1"), "/api/1");
  EXPECT_EQ(rewriter.apply("/api/service/1?x=2"), "/api/1?x=2");
  EXPECT_EQ(rewriter.apply("/other"), "/other");
}

TEST(PathRewriter, OnlyTheFirstMatchingRuleApplies) {
  PathRewriter rewriter(Rules{{"^/a", "/b"}, {"^/b", "/c"}, {"^/a", "/z"}});
  EXPECT_EQ(rewriter.apply("/a/1"), "/b/1");
  EXPECT_EQ(rewriter.apply("/b/1"), "/c/1");
}

TEST(PathRewriter, ReplacementsUseJavaScriptGroupsAndReplaceTheFirstOccurrenceOnly) {
  PathRewriter groups(Rules{{"^/users/([0-9]+)", "/people/$1"}});
  EXPECT_EQ(groups.apply("/users/42/posts"), "/people/42/posts");
  PathRewriter first(Rules{{"x", "y"}});
  EXPECT_EQ(first.apply("/x/x"), "/y/x");
  PathRewriter remove(Rules{{"^/remove", ""}});
  EXPECT_EQ(remove.apply("/remove/rest"), "/rest");
}

TEST(PathRewriter, BadPatternsThrow) { EXPECT_THROW(PathRewriter(Rules{{"(", "x"}}), std::regex_error); }

TEST(UpstreamTarget, JoinsTheBasePathWithOneSlash) {
  EXPECT_EQ(join_upstream_target("", "/api/1"), "/api/1");
  EXPECT_EQ(join_upstream_target("/base", "/api/1"), "/base/api/1");
  EXPECT_EQ(join_upstream_target("/base/", "/api"), "/base/api");
  EXPECT_EQ(join_upstream_target("", ""), "/");
  EXPECT_EQ(join_upstream_target("", "rest"), "/rest");
  EXPECT_EQ(join_upstream_target("/base", "?q=1"), "/base?q=1");
}

}  // namespace
}  // namespace plume::gateway
