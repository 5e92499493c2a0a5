// CORS over real sockets: preflight answers and Access-Control-* headers on replies, with the
// wildcard and with an allow-list of origins.
#include "test_server.hpp"

#include <plume/store/store.hpp>

#include <gtest/gtest.h>

namespace plume {
namespace {

using testing::HttpClient;
using testing::TestServer;
namespace http = boost::beast::http;

void use_messages(App& app) { app.use("messages", store::make_memory_service({})); }

TEST(RestCors, PreflightIs204WithMethodsRequestedHeadersAndMaxAge) {
  TestServer server(use_messages);
  HttpClient client(server.port());
  auto reply = client.request(http::verb::options, "/messages", {},
                              {{"Origin", "http://app.example"},
                               {"Access-Control-Request-Method", "POST"},
                               {"Access-Control-Request-Headers", "content-type,authorization"}});
  EXPECT_EQ(reply.status, 204);
  EXPECT_TRUE(reply.body.empty());
  EXPECT_EQ(reply.header("Access-Control-Allow-Origin"), "http://app.example");
  EXPECT_EQ(reply.header("Access-Control-Allow-Methods"), "GET,HEAD,PUT,PATCH,POST,DELETE");
  EXPECT_EQ(reply.header("Access-Control-Allow-Headers"), "content-type,authorization");
  EXPECT_FALSE(reply.header("Access-Control-Max-Age").empty());
  EXPECT_NE(reply.header("Vary").find("Origin"), std::string::npos);
}

TEST(RestCors, RepliesEchoAnAllowedOriginWithVary) {
  TestServer server(use_messages);
  HttpClient client(server.port());
  auto reply = client.get("/messages", {{"Origin", "http://app.example"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Access-Control-Allow-Origin"), "http://app.example");
  EXPECT_EQ(reply.header("Vary"), "Origin");
  // The wildcard never allows credentials.
  EXPECT_FALSE(reply.has_header("Access-Control-Allow-Credentials"));
}

TEST(RestCors, RequestsWithoutOriginGetTheWildcard) {
  TestServer server(use_messages);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/messages").header("Access-Control-Allow-Origin"), "*");
}

TEST(RestCors, AllowListEchoesListedOriginsWithCredentialsAndIgnoresOthers) {
  auto options = testing::test_server_options();
  options.cors.origins = {"https://good.example"};
  TestServer server(use_messages, options);
  HttpClient client(server.port());

  auto good = client.get("/messages", {{"Origin", "https://good.example"}});
  EXPECT_EQ(good.header("Access-Control-Allow-Origin"), "https://good.example");
  EXPECT_EQ(good.header("Access-Control-Allow-Credentials"), "true");

  auto bad = client.get("/messages", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(bad.status, 200);
  EXPECT_FALSE(bad.has_header("Access-Control-Allow-Origin"));

  auto preflight = client.request(http::verb::options, "/messages", {}, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_FALSE(preflight.has_header("Access-Control-Allow-Origin"));
}

TEST(RestCors, ErrorRepliesCarryCorsHeadersToo) {
  TestServer server(use_messages);
  HttpClient client(server.port());
  auto reply = client.get("/messages/404", {{"Origin", "http://app.example"}});
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.header("Access-Control-Allow-Origin"), "http://app.example");
}

TEST(RestCors, DisabledCorsAddsNoHeaders) {
  auto options = testing::test_server_options();
  options.cors.enabled = false;
  TestServer server(use_messages, options);
  HttpClient client(server.port());
  auto reply = client.get("/messages", {{"Origin", "http://app.example"}});
  EXPECT_FALSE(reply.has_header("Access-Control-Allow-Origin"));
}

}  // namespace
}  // namespace plume
