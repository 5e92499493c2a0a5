#include "net/static_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace plume::net {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("plume-files-" + std::to_string(std::random_device{}()));
    fs::create_directories(base_ / "public" / "sub");
    std::ofstream(base_ / "public" / "index.html") << "home";
    std::ofstream(base_ / "public" / "sub" / "a b.txt") << "spaced";
    std::ofstream(base_ / "outside.txt") << "secret";
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_;
};

TEST_F(StaticFilesTest, DirectoryResolvesToItsIndexHtml) {
  StaticFiles files(base_ / "public");
  auto path = files.resolve("/");
  ASSERT_TRUE(path);
  EXPECT_EQ(path->filename(), "index.html");
}

TEST_F(StaticFilesTest, PercentEncodedNamesAreDecoded) {
  StaticFiles files(base_ / "public");
  auto path = files.resolve("/sub/a%20b.txt");
  ASSERT_TRUE(path);
  EXPECT_EQ(path->filename(), "a b.txt");
}

TEST_F(StaticFilesTest, DotDotSegmentsAreForbiddenEvenEncoded) {
  StaticFiles files(base_ / "public");
  EXPECT_THROW(files.resolve("/../outside.txt"), Error);
  EXPECT_THROW(files.resolve("/sub/%2e%2e/%2E%2E/outside.txt"), Error);
  EXPECT_THROW(files.resolve("/sub/..%5c..%5coutside.txt"), Error);
}

TEST_F(StaticFilesTest, DotfilesResolveToNothing) {
  fs::create_directories(base_ / "public" / ".git");
  std::ofstream(base_ / "public" / ".env") << "SECRET=1";
  std::ofstream(base_ / "public" / ".git" / "config") << "[core]";
  std::ofstream(base_ / "public" / "sub" / ".hidden") << "x";
  StaticFiles files(base_ / "public");
  EXPECT_FALSE(files.resolve("/.env"));
  EXPECT_FALSE(files.resolve("/%2eenv"));
  EXPECT_FALSE(files.resolve("/.git/config"));
  EXPECT_FALSE(files.resolve("/.git/"));
  EXPECT_FALSE(files.resolve("/sub/.hidden"));
  EXPECT_TRUE(files.resolve("/sub/a%20b.txt"));
}

TEST_F(StaticFilesTest, MissingFilesResolveToNothing) {
  StaticFiles files(base_ / "public");
  EXPECT_FALSE(files.resolve("/missing.txt"));
  EXPECT_FALSE(files.resolve("/sub"));  // a directory without index.html
}

TEST_F(StaticFilesTest, RootThatIsNotADirectoryIsRejected) {
  EXPECT_THROW(StaticFiles(base_ / "outside.txt"), std::runtime_error);
}

TEST(PercentDecode, RejectsMalformedEscapesAndNul) {
  EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
  EXPECT_FALSE(percent_decode("a%2"));
  EXPECT_FALSE(percent_decode("a%zz"));
  EXPECT_FALSE(percent_decode("a%00b"));
}

TEST(ContentType, KnownExtensionsAndOctetStreamOtherwise) {
  EXPECT_EQ(content_type_for(".HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for(".png"), "image/png");
  EXPECT_EQ(content_type_for(".unknown"), "application/octet-stream");
}

}  // namespace
}  // namespace plume::net
