// REST transport over real sockets: verbs to service methods, status codes, params, bodies and
// the Feathers error replies, as packages/transport-commons/src/http.ts and express/rest.ts do.
#include "test_server.hpp"

#include <plume/core/error.hpp>
#include <plume/core/schema.hpp>
#include <plume/core/service.hpp>
#include <plume/store/store.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

namespace plume {
namespace {

using testing::HttpClient;
using testing::TestServer;
namespace http = boost::beast::http;

// Answers every call with what it received, so tests can see the mapping.
class CallEcho final : public Service {
 public:
  Task<Json> find(Params& params) override { co_return describe("find", std::nullopt, nullptr, params); }
  Task<Json> get(const Id& id, Params& params) override { co_return describe("get", id, nullptr, params); }
  Task<Json> create(Json data, Params& params) override {
    co_return describe("create", std::nullopt, data, params);
  }
  Task<Json> update(const NullableId& id, Json data, Params& params) override {
    co_return describe("update", id, data, params);
  }
  Task<Json> patch(const NullableId& id, Json data, Params& params) override {
    co_return describe("patch", id, data, params);
  }
  Task<Json> remove(const NullableId& id, Params& params) override {
    co_return describe("remove", id, nullptr, params);
  }
  Task<Json> call_custom(std::string_view method, Json data, Params& params) override {
    if (method == "nothing") co_return nullptr;
    if (method == "explode") throw std::runtime_error("the reactor melted");
    co_return describe(std::string(method), std::nullopt, data, params);
  }

 private:
  static Json describe(std::string method, const NullableId& id, const Json& data, const Params& params) {
    return JsonObject{{"method", method},
                      {"id", id ? id->to_json() : Json(nullptr)},
                      {"data", data},
                      {"query", params.query},
                      {"provider", params.provider},
                      {"route", params.route},
                      {"headers", params.headers},
                      {"authentication", params.authentication}};
  }
};

ServiceOptions echo_options() {
  return {.methods = {"find", "get", "create", "update", "patch", "remove", "shout", "nothing", "explode"}};
}

void use_echo(App& app) { app.use("things", std::make_unique<CallEcho>(), echo_options()); }

TEST(RestMethods, VerbsAndIdsSelectTheServiceMethod) {
  TestServer server(use_echo);
  HttpClient client(server.port());

  auto find = client.get("/things");
  EXPECT_EQ(find.status, 200);
  EXPECT_EQ(find.json().at("method"), "find");
  EXPECT_TRUE(find.json().at("id").is_null());

  auto get = client.get("/things/7");
  EXPECT_EQ(get.json().at("method"), "get");
  EXPECT_EQ(get.json().at("id"), "7");  // ids from URLs are strings

  auto update = client.request(http::verb::put, "/things/7", R"({"a":1})");
  EXPECT_EQ(update.status, 200);
  EXPECT_EQ(update.json().at("method"), "update");
  EXPECT_EQ(update.json().at("data").at("a"), 1);

  auto update_many = client.request(http::verb::put, "/things", R"({"a":1})");
  EXPECT_EQ(update_many.json().at("method"), "update");
  EXPECT_TRUE(update_many.json().at("id").is_null());

  auto patch = client.request(http::verb::patch, "/things?x=1", R"({"b":2})");
  EXPECT_EQ(patch.json().at("method"), "patch");
  EXPECT_TRUE(patch.json().at("id").is_null());
  EXPECT_EQ(patch.json().at("query").at("x"), "1");

  auto remove = client.request(http::verb::delete_, "/things/a%20b");
  EXPECT_EQ(remove.json().at("method"), "remove");
  EXPECT_EQ(remove.json().at("id"), "a b");
}

TEST(RestMethods, CreateAnswers201WithJsonContentType) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things", R"({"text":"hi"})");
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(reply.json().at("data").at("text"), "hi");
}

TEST(RestMethods, EmptyJsonBodyIsAnEmptyObject) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things", "");
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.json().at("data"), JsonObject{});
}

TEST(RestMethods, HeadAnswersLikeGetWithoutBody) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto get = client.get("/things/7");
  auto head = client.request(http::verb::head, "/things/7");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("Content-Length"), std::to_string(get.body.size()));
}

TEST(RestMethods, CustomMethodThroughXServiceMethodAnswers200) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things?q=1", R"({"text":"yo"})", {{"X-Service-Method", "shout"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json().at("method"), "shout");
  EXPECT_EQ(reply.json().at("data").at("text"), "yo");
  EXPECT_EQ(reply.json().at("query").at("q"), "1");
}

TEST(RestMethods, XServiceMethodNamingAStandardMethodIs405) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things", "{}", {{"X-Service-Method", "find"}});
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(
      boost::json::serialize(reply.json()),
      R"({"name":"MethodNotAllowed","message":"Method `find` is not supported by this endpoint.","code":405,"className":"method-not-allowed"})");
}

TEST(RestMethods, CustomMethodNotExposedIs405) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things", "{}", {{"X-Service-Method", "whisper"}});
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.json().at("message"), "Method `whisper` is not supported by this endpoint.");
}

TEST(RestMethods, StandardMethodNotExposedIs405) {
  TestServer server([](App& app) {
    app.use("things", std::make_unique<CallEcho>(), {.methods = {"find", "get"}});
  });
  HttpClient client(server.port());
  auto reply = client.request(http::verb::delete_, "/things/1");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.json().at("message"), "Method `remove` is not supported by this endpoint.");
  EXPECT_EQ(client.get("/things").status, 200);
}

TEST(RestMethods, UnknownVerbIs405WhenCorsIsOff) {
  auto options = testing::test_server_options();
  options.cors.enabled = false;
  TestServer server(use_echo, options);
  HttpClient client(server.port());
  auto reply = client.request(http::verb::options, "/things");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.json().at("message"), "Method OPTIONS not allowed");
}

TEST(RestMethods, FalsyReplyIs204WithEmptyBody) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things", "{}", {{"X-Service-Method", "nothing"}});
  EXPECT_EQ(reply.status, 204);
  EXPECT_TRUE(reply.body.empty());
  // The connection is still usable after a bodiless reply.
  EXPECT_EQ(client.get("/things").status, 200);
}

TEST(RestMethods, HookStatusCodeWins) {
  TestServer server([](App& app) {
    use_echo(app);
    app.service("things").hooks({.after = {{"create", {[](HookContext& context) -> Task<void> {
                                              context.status_code = 202;
                                              co_return;
                                            }}}}});
  });
  HttpClient client(server.port());
  EXPECT_EQ(client.post("/things", "{}").status, 202);
}

TEST(RestMethods, ParamsCarryProviderHeadersRouteAndAuthentication) {
  TestServer server([](App& app) { app.use("users/:userId/things", std::make_unique<CallEcho>()); });
  HttpClient client(server.port());
  auto reply =
      client.get("/users/7/things/3", {{"X-Custom-Header", "v"}, {"Authorization", "Bearer abc.def"}});
  ASSERT_EQ(reply.status, 200);
  auto body = reply.json();
  EXPECT_EQ(body.at("provider"), "rest");
  EXPECT_EQ(body.at("id"), "3");
  EXPECT_EQ(body.at("route").at("userId"), "7");
  EXPECT_EQ(body.at("headers").at("x-custom-header"), "v");
  EXPECT_EQ(body.at("authentication"), (JsonObject{{"strategy", "jwt"}, {"accessToken", "abc.def"}}));
}

TEST(RestMethods, QueryStringIsParsedWithQsSyntax) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply =
      client.get("/things?age%5B%24gt%5D=20&%24sort%5Bname%5D=1&%24select%5B0%5D=a&%24select%5B1%5D=b");
  auto query = reply.json().at("query");
  EXPECT_EQ(query.at("age").at("$gt"), "20");
  EXPECT_EQ(query.at("$sort").at("name"), "1");
  EXPECT_EQ(query.at("$select"), (JsonArray{"a", "b"}));
}

TEST(RestMethods, UrlEncodedFormBodyKeepsStrings) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply =
      client.post("/things", "text=hi+there&n=5", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.json().at("data"), (JsonObject{{"text", "hi there"}, {"n", "5"}}));
}

TEST(RestMethods, MalformedJsonBodyIs400BadRequest) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things", R"({"text": )");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.json().at("name"), "BadRequest");
  EXPECT_EQ(reply.json().at("className"), "bad-request");
}

TEST(RestMethods, UnknownPathIsPageNotFound) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.get("/nothing/here/at/all?x=1");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(
      boost::json::serialize(reply.json()),
      R"({"name":"NotFound","message":"Page not found","code":404,"className":"not-found","data":{"url":"/nothing/here/at/all?x=1"}})");
}

TEST(RestMethods, OtherExceptionsAreGeneralError500) {
  TestServer server(use_echo);
  HttpClient client(server.port());
  auto reply = client.post("/things", "{}", {{"X-Service-Method", "explode"}});
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.json().at("name"), "GeneralError");
  EXPECT_EQ(reply.json().at("message"), "the reactor melted");
}

TEST(RestMethods, MemoryServiceCrudWithFeathersStatuses) {
  TestServer server([](App& app) { app.use("messages", store::make_memory_service({})); });
  HttpClient client(server.port());

  auto created = client.post("/messages", R"({"text":"one"})");
  ASSERT_EQ(created.status, 201);
  auto id = boost::json::serialize(created.json().at("id"));
  EXPECT_EQ(client.get("/messages/" + id).json().at("text"), "one");
  EXPECT_EQ(client.request(http::verb::put, "/messages/" + id, R"({"text":"two"})").json().at("text"), "two");
  EXPECT_EQ(client.request(http::verb::patch, "/messages/" + id, R"({"n":1})").json().at("n"), 1);
  auto list = client.get("/messages");
  ASSERT_TRUE(list.json().is_array());
  EXPECT_EQ(list.json().as_array().size(), 1u);
  EXPECT_EQ(client.request(http::verb::delete_, "/messages/" + id).status, 200);

  auto missing = client.get("/messages/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(
      boost::json::serialize(missing.json()),
      R"({"name":"NotFound","message":"No record found for id '999'","code":404,"className":"not-found"})");
}

TEST(RestMethods, QueryValuesAreCoercedByTheServiceSchema) {
  Schema schema({FieldSpec{.name = "n", .type = FieldType::Integer}});
  TestServer server([&](App& app) {
    app.use("numbers", store::make_memory_service({})).set_schema(&schema);
    app.use("plain", store::make_memory_service({}));
  });
  HttpClient client(server.port());
  for (int n = 1; n <= 3; ++n) {
    client.post("/numbers", R"({"n":)" + std::to_string(n) + "}");
    client.post("/plain", R"({"n":)" + std::to_string(n) + "}");
  }
  auto equal = client.get("/numbers?n=2");
  ASSERT_EQ(equal.status, 200);
  ASSERT_EQ(equal.json().as_array().size(), 1u);
  EXPECT_EQ(equal.json().as_array()[0].at("n"), 2);
  EXPECT_EQ(client.get("/numbers?n%5B%24gt%5D=1").json().as_array().size(), 2u);
  // Without a schema the value stays the string "2", which matches no number (as in Feathers).
  EXPECT_EQ(client.get("/plain?n=2").json().as_array().size(), 0u);
}

}  // namespace
}  // namespace plume
