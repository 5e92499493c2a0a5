// Static files from the public directory over real sockets: index.html, content types, HEAD,
// services before files, and no way out of the directory.
#include "test_server.hpp"

#include <plume/store/store.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace plume {
namespace {

using testing::HttpClient;
using testing::TestServer;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

class RestStatic : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("plume-static-" + std::to_string(std::random_device{}()));
    fs::create_directories(base_ / "public" / "docs");
    write(base_ / "public" / "index.html", "<h1>home</h1>");
    write(base_ / "public" / "app.js", "console.log(1)");
    write(base_ / "public" / "docs" / "index.html", "<p>docs</p>");
    write(base_ / "secret.txt", "top secret");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

  transport::ServerOptions options() const {
    auto options = testing::test_server_options();
    options.public_dir = (base_ / "public").string();
    return options;
  }

  fs::path base_;
};

void use_messages(App& app) { app.use("messages", store::make_memory_service({})); }

TEST_F(RestStatic, RootServesIndexHtml) {
  TestServer server(use_messages, options());
  HttpClient client(server.port());
  auto reply = client.get("/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "<h1>home</h1>");
  EXPECT_EQ(reply.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(client.get("/docs/").body, "<p>docs</p>");
}

TEST_F(RestStatic, ContentTypeFollowsTheExtension) {
  TestServer server(use_messages, options());
  HttpClient client(server.port());
  auto reply = client.get("/app.js");
  EXPECT_EQ(reply.body, "console.log(1)");
  EXPECT_EQ(reply.header("Content-Type"), "application/javascript; charset=utf-8");
}

TEST_F(RestStatic, HeadSendsLengthWithoutBody) {
  TestServer server(use_messages, options());
  HttpClient client(server.port());
  auto reply = client.request(http::verb::head, "/app.js");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.body.empty());
  EXPECT_EQ(reply.header("Content-Length"), "14");
}

TEST_F(RestStatic, ServicesComeBeforeFiles) {
  TestServer server(use_messages, options());
  HttpClient client(server.port());
  auto reply = client.get("/messages");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.json().is_array());
}

TEST_F(RestStatic, MissingFileIsPageNotFound) {
  TestServer server(use_messages, options());
  HttpClient client(server.port());
  auto reply = client.get("/nope.css");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.json().at("message"), "Page not found");
}

TEST_F(RestStatic, TraversalOutOfThePublicDirectoryIsRefused) {
  TestServer server(use_messages, options());
  // The server refuses these paths before any route sees them (a ".." above the root, or
  // behind an encoded slash).
  for (std::string target : {"/../secret.txt", "/%2e%2e/secret.txt", "/docs/%2E%2E/%2e%2e/secret.txt",
                             "/..%2fsecret.txt", "/docs/../../secret.txt"}) {
    HttpClient client(server.port());
    client.send_raw("GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
    auto reply = client.read_reply();
    EXPECT_EQ(reply.status, 400) << target;
    EXPECT_EQ(reply.json().at("name"), "BadRequest") << target;
    EXPECT_EQ(reply.body.find("top secret"), std::string::npos) << target;
  }
}

TEST_F(RestStatic, DotfilesAreNotServed) {
  fs::create_directories(base_ / "public" / ".git");
  write(base_ / "public" / ".env", "PLUME_AUTH_SECRET=hunter2");
  write(base_ / "public" / ".git" / "config", "[core]");
  write(base_ / "public" / "docs" / ".htpasswd", "admin:x");
  TestServer server(use_messages, options());
  HttpClient client(server.port());
  for (std::string target : {"/.env", "/.git/config", "/docs/.htpasswd", "/%2eenv", "/docs/../.env"}) {
    client.send_raw("GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
    auto reply = client.read_reply();
    EXPECT_EQ(reply.status, 404) << target;
    EXPECT_EQ(reply.json().at("name"), "NotFound") << target;
  }
  EXPECT_EQ(client.get("/docs/").status, 200);
}

TEST_F(RestStatic, SymlinkLeavingTheDirectoryIsRefused) {
  fs::create_symlink(base_ / "secret.txt", base_ / "public" / "link.txt");
  TestServer server(use_messages, options());
  HttpClient client(server.port());
  auto reply = client.get("/link.txt");
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body.find("top secret"), std::string::npos);
}

}  // namespace
}  // namespace plume
