// Authentication over REST on a real server, as a Feathers client uses it: sign up with
// POST /users, log in with POST /authentication, then send the token as a Bearer header.
#include "test_server.hpp"

#include <plume/auth/authentication.hpp>
#include <plume/auth/secret_fields.hpp>
#include <plume/core/schema.hpp>
#include <plume/store/store.hpp>

#include <gtest/gtest.h>

namespace plume {
namespace {

using testing::HttpClient;
using testing::TestServer;
namespace http = boost::beast::http;

void setup(App& app) {
  store::StoreOptions users;
  users.schema = Schema::from_json(
      parse_json(R"({"email": {"type": "string"}, "password": {"type": "string", "secret": true}})"));
  app.use("users", store::make_memory_service(std::move(users)))
      .hooks(auth::secret_field_hooks({"password"}, 4));
  Hooks protect;
  protect.before["all"].push_back(auth::authenticate());
  app.use("messages", store::make_memory_service({})).hooks(protect);
  auth::AuthenticationOptions options;
  options.secret = "a-rest-test-secret-of-at-least-32-bytes";
  options.local.hash_cost = 4;
  auth::use_authentication(app, std::move(options));
}

std::string login(HttpClient& client) {
  const auto reply =
      client.post("/authentication", R"({"strategy":"local","email":"a@b.c","password":"secret"})");
  EXPECT_EQ(reply.status, 201u) << reply.body;
  return std::string(reply.json().at("accessToken").as_string());
}

TEST(AuthRest, SignUpLogInAndCallAProtectedServiceWithTheBearerToken) {
  TestServer server(setup);
  HttpClient client(server.port());

  const auto created = client.post("/users", R"({"email":"a@b.c","password":"secret"})");
  EXPECT_EQ(created.status, 201u);
  EXPECT_FALSE(created.json().as_object().contains("password")) << created.body;

  const auto reply =
      client.post("/authentication", R"({"strategy":"local","email":"a@b.c","password":"secret"})");
  ASSERT_EQ(reply.status, 201u) << reply.body;
  const Json result = reply.json();
  EXPECT_EQ(result.at("authentication").at("strategy"), "local");
  EXPECT_EQ(result.at("authentication").at("payload").at("sub"), "1");
  EXPECT_EQ(result.at("user"), parse_json(R"({"email":"a@b.c","id":1})"));
  const std::string token(result.at("accessToken").as_string());

  const auto denied = client.get("/messages");
  EXPECT_EQ(denied.status, 401u);
  EXPECT_EQ(denied.json(),
            parse_json(R"({"name":"NotAuthenticated","message":"Not authenticated","code":401,)"
                       R"("className":"not-authenticated"})"));

  const auto allowed = client.post("/messages", R"({"text":"hi"})", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(allowed.status, 201u) << allowed.body;
  const auto listed = client.get("/messages", {{"Authorization", token}});  // a bare token works too
  EXPECT_EQ(listed.status, 200u);
  EXPECT_EQ(listed.json().as_array().size(), 1u);
}

TEST(AuthRest, WrongPasswordIsInvalidLogin) {
  TestServer server(setup);
  HttpClient client(server.port());
  client.post("/users", R"({"email":"a@b.c","password":"secret"})");
  const auto reply =
      client.post("/authentication", R"({"strategy":"local","email":"a@b.c","password":"guess"})");
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(reply.json(), parse_json(R"({"name":"NotAuthenticated","message":"Invalid login","code":401,)"
                                     R"("className":"not-authenticated"})"));
}

TEST(AuthRest, MalformedBearerTokenIsJsonWebTokenError) {
  TestServer server(setup);
  HttpClient client(server.port());
  const auto reply = client.get("/messages", {{"Authorization", "Bearer abc"}});
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(reply.json(),
            parse_json(R"({"name":"NotAuthenticated","message":"jwt malformed","code":401,)"
                       R"("className":"not-authenticated","data":{"name":"JsonWebTokenError"}})"));
}

TEST(AuthRest, JwtReauthenticationAndLogout) {
  TestServer server(setup);
  HttpClient client(server.port());
  client.post("/users", R"({"email":"a@b.c","password":"secret"})");
  const std::string token = login(client);

  const auto again = client.post("/authentication", R"({"strategy":"jwt","accessToken":")" + token + R"("})");
  EXPECT_EQ(again.status, 201u);
  EXPECT_EQ(again.json().at("accessToken").as_string(), token);

  const auto logout =
      client.request(http::verb::delete_, "/authentication", {}, {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(logout.status, 200u) << logout.body;
  EXPECT_EQ(logout.json().at("authentication").at("strategy"), "jwt");
  const auto by_id = client.request(http::verb::delete_, "/authentication/" + token, {},
                                    {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(by_id.status, 200u) << by_id.body;
  const auto other = client.request(http::verb::delete_, "/authentication/other", {},
                                    {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(other.status, 401u);
  EXPECT_EQ(other.json().at("message"), "Invalid access token");
  const auto anonymous = client.request(http::verb::delete_, "/authentication");
  EXPECT_EQ(anonymous.status, 401u);
  EXPECT_EQ(anonymous.json().at("message"), "Invalid authentication information (no `strategy` set)");
}

}  // namespace
}  // namespace plume
