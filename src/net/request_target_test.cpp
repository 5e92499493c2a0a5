#include "net/request_target.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace plume::net {
namespace {

std::string normal(std::string_view path) {
  auto result = normalize_path(path);
  return result ? *result : "<refused>";
}

TEST(NormalizePath, LeavesACanonicalPathAsItIs) {
  EXPECT_EQ(normal("/"), "/");
  EXPECT_EQ(normal("/messages"), "/messages");
  EXPECT_EQ(normal("/messages/1"), "/messages/1");
  EXPECT_EQ(normal("/api/v1/"), "/api/v1/");
  EXPECT_EQ(normal("/a-b_c.d~e/f!$&'()*+,;=:@"), "/a-b_c.d~e/f!$&'()*+,;=:@");
}

TEST(NormalizePath, ResolvesDotSegments) {
  EXPECT_EQ(normal("/api/service/../admin/secret.txt"), "/api/admin/secret.txt");
  EXPECT_EQ(normal("/a/./b"), "/a/b");
  EXPECT_EQ(normal("/a/b/../../c"), "/c");
  EXPECT_EQ(normal("/./a"), "/a");
  EXPECT_EQ(normal("/a/.."), "/");
  EXPECT_EQ(normal("/a/b/.."), "/a/");
  EXPECT_EQ(normal("/a/b/."), "/a/b/");
  EXPECT_EQ(normal("/a/b/./"), "/a/b/");
  EXPECT_EQ(normal("/."), "/");
  EXPECT_EQ(normal("/./"), "/");
}

TEST(NormalizePath, KeepsSegmentsThatOnlyLookLikeDots) {
  EXPECT_EQ(normal("/a/.../b"), "/a/.../b");
  EXPECT_EQ(normal("/a/..b/c"), "/a/..b/c");
  EXPECT_EQ(normal("/a/b../c"), "/a/b../c");
  EXPECT_EQ(normal("/.well-known/x"), "/.well-known/x");
  EXPECT_EQ(normal("/a/.b"), "/a/.b");
}

TEST(NormalizePath, RefusesToClimbAboveTheRoot) {
  EXPECT_FALSE(normalize_path("/.."));
  EXPECT_FALSE(normalize_path("/../"));
  EXPECT_FALSE(normalize_path("/../etc/passwd"));
  EXPECT_FALSE(normalize_path("/a/../../b"));
  EXPECT_FALSE(normalize_path("/a/../.."));
  EXPECT_FALSE(normalize_path("/%2e%2e/etc/passwd"));
  EXPECT_FALSE(normalize_path("//../x"));
}

TEST(NormalizePath, DecodesEncodedDotsBeforeResolvingThem) {
  EXPECT_EQ(normal("/api/service/%2e%2e/admin/secret.txt"), "/api/admin/secret.txt");
  EXPECT_EQ(normal("/api/service/%2E%2E/admin"), "/api/admin");
  EXPECT_EQ(normal("/api/service/.%2e/admin"), "/api/admin");
  EXPECT_EQ(normal("/api/service/%2e./admin"), "/api/admin");
  EXPECT_EQ(normal("/a/%2e/b"), "/a/b");
  EXPECT_EQ(normal("/a/%2E"), "/a/");
}

TEST(NormalizePath, DecodesUnreservedEscapes) {
  EXPECT_EQ(normal("/%61dmin"), "/admin");
  EXPECT_EQ(normal("/%41%5a%30%39"), "/AZ09");
  EXPECT_EQ(normal("/%2D%5F%7E%2E"), "/-_~.");
  EXPECT_EQ(normal("/%7e%7Euser"), "/~~user");
}

TEST(NormalizePath, KeepsReservedEscapesEncodedInUppercase) {
  EXPECT_EQ(normal("/files/a%2fb"), "/files/a%2Fb");
  EXPECT_EQ(normal("/files/a%2Fb"), "/files/a%2Fb");
  EXPECT_EQ(normal("/a%3fb"), "/a%3Fb");
  EXPECT_EQ(normal("/a%20b"), "/a%20b");
  EXPECT_EQ(normal("/a%25b"), "/a%25b");
  EXPECT_EQ(normal("/a%3a%40"), "/a%3A%40");
  EXPECT_EQ(normal("/caf%c3%a9"), "/caf%C3%A9");
}

TEST(NormalizePath, AnEncodedSlashNeverSplitsASegment) {
  // "a%2F.." is one segment named so, not "a" and "..".
  EXPECT_EQ(normal("/x/a%2F../y"), "<refused>");
  EXPECT_EQ(normal("/x/a%2F.b/../y"), "/x/y");
  EXPECT_EQ(normal("/x/%2F/y"), "/x/%2F/y");
}

TEST(NormalizePath, RefusesADotDotHiddenBehindAnEncodedSlash) {
  // An upstream that decodes %2F (or treats a backslash as a slash) before resolving dots would
  // climb out of the route the gateway chose.
  EXPECT_FALSE(normalize_path("/api/service/..%2fadmin/secret.txt"));
  EXPECT_FALSE(normalize_path("/api/service/..%2Fadmin"));
  EXPECT_FALSE(normalize_path("/api/service/%2e%2e%2fadmin"));
  EXPECT_FALSE(normalize_path("/api/service/x%2F..%2F..%2Fadmin"));
  EXPECT_FALSE(normalize_path("/api/service/..%5cadmin"));
  EXPECT_FALSE(normalize_path("/api/service/..\\admin"));
  EXPECT_FALSE(normalize_path("/api/service/%2F.."));
  EXPECT_EQ(normal("/api/service/.%2Fadmin"), "/api/service/.%2Fadmin");
  EXPECT_EQ(normal("/api/service/...%2Fadmin"), "/api/service/...%2Fadmin");
}

TEST(NormalizePath, MergesEmptySegments) {
  EXPECT_EQ(normal("//a"), "/a");
  EXPECT_EQ(normal("/a//b"), "/a/b");
  EXPECT_EQ(normal("/a///b//"), "/a/b/");
  EXPECT_EQ(normal("//"), "/");
  EXPECT_EQ(normal("/a/.//../b"), "/b");
}

TEST(NormalizePath, RefusesMalformedEscapes) {
  EXPECT_FALSE(normalize_path("/a%"));
  EXPECT_FALSE(normalize_path("/a%2"));
  EXPECT_FALSE(normalize_path("/a%zz"));
  EXPECT_FALSE(normalize_path("/a%2g/b"));
  EXPECT_FALSE(normalize_path("/a%%41"));
  EXPECT_FALSE(normalize_path("/%%"));
}

TEST(NormalizePath, RefusesNul) {
  // nginx answers 400 to %00: C code behind a proxy would cut the path there.
  EXPECT_FALSE(normalize_path("/a%00b"));
  EXPECT_FALSE(normalize_path("/secret.txt%00.png"));
  EXPECT_FALSE(normalize_path(std::string_view("/a\0b", 4)));
}

TEST(NormalizePath, RefusesWhatIsNotAnAbsolutePath) {
  EXPECT_FALSE(normalize_path(""));
  EXPECT_FALSE(normalize_path("a/b"));
  EXPECT_FALSE(normalize_path("*"));
  EXPECT_FALSE(normalize_path("http://h/p"));
  EXPECT_FALSE(normalize_path("%2Fa"));
}

TEST(NormalizePath, EncodesBytesThatAreNotAllowedRaw) {
  EXPECT_EQ(normal("/a b"), "/a%20b");
  EXPECT_EQ(normal("/a\\b"), "/a%5Cb");
  EXPECT_EQ(normal("/a\"<>b"), "/a%22%3C%3Eb");
  EXPECT_EQ(normal("/a#b"), "/a%23b");
  EXPECT_EQ(normal("/a?b"), "/a%3Fb");
  EXPECT_EQ(normal("/{x}|^`"), "/%7Bx%7D%7C%5E%60");
  EXPECT_EQ(normal("/caf\xc3\xa9"), "/caf%C3%A9");
}

TEST(NormalizePath, IsIdempotent) {
  const std::vector<std::string> paths = {
      "/",           "/a/../b/./c//d/",  "/%2e%2e%2Ex/..",  "/a%2fb/%7e",      "/caf\xc3\xa9/%c3%a9",
      "/a b/\\x",    "/x/.%2F/y/..",     "/%41/%2D/%5f",    "/a/b/c/../../..", "/.well-known//a/./",
      "/a%20%2F%3F", "/files/..../x/..", "/a;b=c/d@e:f/..", "//x//y//",        "/%25%32%65"};
  for (const auto& path : paths) {
    auto once = normalize_path(path);
    ASSERT_TRUE(once) << path;
    EXPECT_EQ(normalize_path(*once), once) << path;
  }
}

TEST(NormalizePath, DoesNotDecodeTwice) {
  // "%252e" is an encoded '%' followed by "2e": data, not a dot.
  EXPECT_EQ(normal("/%252e%252e/admin"), "/%252e%252e/admin");
  EXPECT_EQ(normal("/%25%32%65"), "/%252e");
}

}  // namespace
}  // namespace plume::net
