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

TEST(PathRewriter, BadPatternsThrow) { EXPECT_THROW(PathRewriter(Rules{{"(", "x"}}), std::invalid_argument); }

// RE2 has no backreferences nor lookaround: a pattern that needs backtracking is refused when
// the configuration loads.
TEST(PathRewriter, PatternsThatNeedBacktrackingAreRefused) {
  EXPECT_FALSE(pattern_error("^/(a)\\1").empty());
  EXPECT_FALSE(pattern_error("^/(?=admin)").empty());
  EXPECT_TRUE(pattern_error("^/api/(v[0-9]+)/(.*)$").empty());
}

// Matching is linear: a long target against a pattern that backtracks badly elsewhere answers
// at once, and a rule that does not match leaves the target as it is.
TEST(PathRewriter, LongTargetsAreMatchedWithoutBacktracking) {
  PathRewriter rewriter(Rules{{"^/(a+)+$", "/x"}, {"^/(.*)/end$", "/$1"}});
  const std::string target = "/" + std::string(16 * 1024, 'a') + "b";
  EXPECT_EQ(rewriter.apply(target), target);
  EXPECT_EQ(rewriter.apply("/" + std::string(16 * 1024, 'c') + "/end"), "/" + std::string(16 * 1024, 'c'));
}

TEST(PathRewriter, ReplacementsKnowJavaScriptsSpecialPatterns) {
  PathRewriter rewriter(Rules{{"b+", "[$`|$&|$'|$$|$2|$10|$1]"}});
  EXPECT_EQ(rewriter.apply("abbc"), "a[a|bb|c|$|$2|$10|$1]c");
  PathRewriter groups(Rules{{"^/(\\w)(\\w)", "/$2$1$12"}});
  EXPECT_EQ(groups.apply("/ab/c"), "/baa2/c");
}

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
