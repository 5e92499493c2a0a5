// The authentication service, the authenticate hook and secret fields over an App with a memory
// users service, called as REST calls them (provider "rest") and as internal code does.
#include <plume/auth/authentication.hpp>
#include <plume/auth/secret_fields.hpp>
#include <plume/core/app.hpp>
#include <plume/core/channels.hpp>
#include <plume/core/connection.hpp>
#include <plume/core/error.hpp>
#include <plume/store/store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>

namespace plume::auth {
namespace {

constexpr std::string_view kSecret = "a-test-secret-that-is-at-least-32-bytes";

// Runs a task to completion; timers left behind (a connection's expiry) do not keep it waiting.
template <class T>
T run(Task<T> task) {
  boost::asio::io_context context;
  auto future = boost::asio::co_spawn(context, std::move(task), boost::asio::use_future);
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    context.run_one_for(std::chrono::milliseconds(50));
  }
  return future.get();
}

Error error_of(const std::function<Task<Json>()>& call) {
  try {
    run(call());
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "the call succeeded";
  return general_error("succeeded");
}

Params external(Json authentication = nullptr) {
  Params params;
  params.provider = "rest";
  params.authentication = std::move(authentication);
  return params;
}

struct AuthApp {
  App app{AppOptions{.worker_threads = 2}};

  AuthApp() {
    store::StoreOptions users;
    users.schema = Schema::from_json(parse_json(
        R"({"email": {"type": "string", "unique": true}, "password": {"type": "string", "secret": true}})"));
    app.use("users", store::make_memory_service(std::move(users))).hooks(secret_field_hooks({"password"}, 4));
    app.use("messages", store::make_memory_service({})).hooks(Hooks{.before = {{"all", {authenticate()}}}});
    AuthenticationOptions options;
    options.secret = kSecret;
    options.local.hash_cost = 4;
    use_authentication(app, std::move(options));
    run(app.create("users", JsonObject{{"email", "a@b.c"}, {"password", "secret"}}, external()));
  }

  Json login(Params params = external()) {
    return run(app.create("authentication",
                          JsonObject{{"strategy", "local"}, {"email", "a@b.c"}, {"password", "secret"}},
                          std::move(params)));
  }
};

TEST(AuthenticationService, LocalLoginReturnsTokenPayloadAndUserWithoutPassword) {
  AuthApp f;
  const Json result = f.login();
  std::vector<std::string> keys;
  for (const auto& [key, value] : result.as_object()) keys.emplace_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"accessToken", "authentication", "user"}));
  EXPECT_EQ(result.at("authentication").at("strategy"), "local");
  const Json& payload = result.at("authentication").at("payload");
  EXPECT_EQ(payload.at("sub"), "1");
  EXPECT_EQ(payload.at("aud"), "https://yourdomain.com");
  EXPECT_EQ(payload.at("iss"), "feathers");
  EXPECT_EQ(payload.at("exp").as_int64() - payload.at("iat").as_int64(), 86'400);
  EXPECT_EQ(result.at("user"), (Json(JsonObject{{"email", "a@b.c"}, {"id", 1}})));

  JwtOptions jwt;
  jwt.secret = kSecret;
  EXPECT_EQ(Json(verify_access_token(jwt, result.at("accessToken").as_string())), payload);
}

TEST(AuthenticationService, WrongPasswordAndUnknownUserAreInvalidLogin) {
  AuthApp f;
  for (const Json& data :
       {Json(JsonObject{{"strategy", "local"}, {"email", "a@b.c"}, {"password", "nope"}}),
        Json(JsonObject{{"strategy", "local"}, {"email", "x@b.c"}, {"password", "secret"}}),
        Json(JsonObject{{"strategy", "local"}, {"email", "a@b.c"}}),
        // An operator object must not match any user.
        Json(JsonObject{
            {"strategy", "local"}, {"email", JsonObject{{"$ne", nullptr}}}, {"password", "secret"}})}) {
    const Error error = error_of([&] { return f.app.create("authentication", data, external()); });
    EXPECT_EQ(error.code(), ErrorCode::NotAuthenticated) << to_json_text(data);
    EXPECT_EQ(error.message(), "Invalid login") << to_json_text(data);
  }
}

TEST(AuthenticationService, MissingOrDisallowedStrategyMessages) {
  AuthApp f;
  EXPECT_EQ(error_of([&] {
              return f.app.create("authentication", JsonObject{{"email", "a@b.c"}}, external());
            }).message(),
            "Invalid authentication information (no `strategy` set)");
  EXPECT_EQ(error_of([&] {
              return f.app.create("authentication", JsonObject{{"strategy", "apikey"}}, external());
            }).message(),
            "Invalid authentication information (strategy not allowed in authStrategies)");
}

TEST(AuthenticationService, JwtStrategyReturnsTheSameTokenAndTheUser) {
  AuthApp f;
  const std::string token(f.login().at("accessToken").as_string());
  const Json result = run(
      f.app.create("authentication", JsonObject{{"strategy", "jwt"}, {"accessToken", token}}, external()));
  EXPECT_EQ(result.at("accessToken").as_string(), token);
  EXPECT_EQ(result.at("authentication").at("strategy"), "jwt");
  EXPECT_EQ(result.at("authentication").at("accessToken").as_string(), token);
  EXPECT_EQ(result.at("authentication").at("payload").at("sub"), "1");
  EXPECT_EQ(result.at("user"), (Json(JsonObject{{"email", "a@b.c"}, {"id", 1}})));
}

TEST(AuthenticationService, BadTokenIsNotAuthenticatedWithJsonwebtokenMessage) {
  AuthApp f;
  const Error error = error_of([&] {
    return f.app.create("authentication", JsonObject{{"strategy", "jwt"}, {"accessToken", "abc"}},
                        external());
  });
  EXPECT_EQ(error.to_json(),
            parse_json(R"({"name":"NotAuthenticated","message":"jwt malformed","code":401,)"
                       R"("className":"not-authenticated","data":{"name":"JsonWebTokenError"}})"));
}

TEST(AuthenticationService, LogoutWithTheTokenReturnsTheJwtResult) {
  AuthApp f;
  const std::string token(f.login().at("accessToken").as_string());
  const Json bearer = JsonObject{{"strategy", "jwt"}, {"accessToken", token}};
  const Json without_id = run(f.app.remove("authentication", std::nullopt, external(bearer)));
  EXPECT_EQ(without_id.at("accessToken").as_string(), token);
  EXPECT_EQ(without_id.at("authentication").at("strategy"), "jwt");
  const Json with_id = run(f.app.remove("authentication", Id(token), external(bearer)));
  EXPECT_EQ(with_id.at("accessToken").as_string(), token);

  EXPECT_EQ(error_of([&] { return f.app.remove("authentication", Id("other"), external(bearer)); }).message(),
            "Invalid access token");
  EXPECT_EQ(error_of([&] { return f.app.remove("authentication", std::nullopt, external()); }).message(),
            "Invalid authentication information (no `strategy` set)");
}

TEST(SecretFields, StoredHashedHiddenFromExternalCallersVisibleInternally) {
  AuthApp f;
  const Json internal = run(f.app.get("users", Id(1)));
  const std::string hash(internal.at("password").as_string());
  EXPECT_EQ(hash.substr(0, 7), "$2b$04$");
  EXPECT_TRUE(verify_password_blocking("secret", hash));

  ServiceEntry& users = f.app.service("users");
  for (const char* method : {"get", "find", "patch"}) {
    HookContext context{
        .app = f.app, .entry = users, .service = users.service(), .path = "users", .method = method};
    context.params = external();
    if (std::string_view(method) != "find") context.id = Id(1);
    if (std::string_view(method) == "patch") context.data = JsonObject{{"password", "changed"}};
    run([&]() -> Task<Json> {
      co_await f.app.run(context);
      co_return nullptr;
    }());
    const std::string reply = to_json_text(context.reply());
    EXPECT_EQ(reply.find("password"), std::string::npos) << method << ": " << reply;
    EXPECT_NE(reply.find("a@b.c"), std::string::npos) << method << ": " << reply;
  }
  // The patch hashed the new password.
  const Json patched = run(f.app.get("users", Id(1)));
  EXPECT_TRUE(verify_password_blocking("changed", std::string(patched.at("password").as_string())));
}

TEST(SecretFields, PagesAndArraysLoseTheFieldsToo) {
  const Json page = parse_json(R"({"total":1,"limit":10,"skip":0,"data":[{"id":1,"password":"h"}]})");
  EXPECT_EQ(without_fields(page, {"password"}),
            parse_json(R"({"total":1,"limit":10,"skip":0,"data":[{"id":1}]})"));
  EXPECT_EQ(without_fields(parse_json(R"([{"id":1,"password":"h"},{"id":2}])"), {"password"}),
            parse_json(R"([{"id":1},{"id":2}])"));
}

TEST(SecretFields, ExternalQueriesOnASecretFieldAreRefused) {
  AuthApp f;
  Params params = external();
  params.query = JsonObject{{"password", JsonObject{{"$lt", "$2b$05"}}}};
  EXPECT_EQ(error_of([&] { return f.app.find("users", params); }).code(), ErrorCode::BadRequest);
  params.query = JsonObject{{"$or", JsonArray{JsonObject{{"password", "x"}}}}};
  EXPECT_EQ(error_of([&] { return f.app.find("users", params); }).code(), ErrorCode::BadRequest);
}

TEST(AuthenticateHook, ExternalCallWithoutTokenIsNotAuthenticated) {
  AuthApp f;
  const Error error = error_of([&] { return f.app.find("messages", external()); });
  EXPECT_EQ(error.code(), ErrorCode::NotAuthenticated);
  EXPECT_EQ(error.message(), "Not authenticated");
}

TEST(AuthenticateHook, InternalCallPasses) {
  AuthApp f;
  EXPECT_NO_THROW(run(f.app.create("messages", JsonObject{{"text", "hi"}})));
}

TEST(AuthenticateHook, ValidTokenLoadsTheUserIntoParams) {
  AuthApp f;
  const std::string token(f.login().at("accessToken").as_string());
  Json seen_user;
  bool seen_authenticated = false;
  f.app.service("messages").hooks(Hooks{.before = {{"find", {[&](HookContext& context) -> Task<void> {
                                                      seen_user = context.params.user;
                                                      seen_authenticated = context.params.authenticated;
                                                      co_return;
                                                    }}}}});
  run(f.app.find("messages", external(JsonObject{{"strategy", "jwt"}, {"accessToken", token}})));
  EXPECT_TRUE(seen_authenticated);
  EXPECT_EQ(seen_user.at("email"), "a@b.c");
  EXPECT_EQ(seen_user.at("id"), 1);

  const Error bad = error_of([&] {
    return f.app.find("messages", external(JsonObject{{"strategy", "jwt"}, {"accessToken", token + "x"}}));
  });
  EXPECT_EQ(bad.message(), "invalid signature");
}

// A real-time client as the authentication service sees it.
class RecordingConnection final : public Connection {
 public:
  RecordingConnection() : Connection("c1", "socketio", {}) {}
  void send_event(std::string_view path, std::string_view event, const Json& data) override {
    std::lock_guard lock(mutex);
    events.push_back(std::string(path) + " " + std::string(event) + " " + to_json_text(data));
  }
  void close(std::string_view reason) override { closed = std::string(reason); }
  std::string closed;
  std::mutex mutex;
  std::vector<std::string> events;
};

TEST(AuthenticationService, SocketLoginIsRememberedOnTheConnectionAndLogoutForgetsIt) {
  AuthApp f;
  auto connection = std::make_shared<RecordingConnection>();
  int logins = 0, logouts = 0;
  f.app.on_connection_event(ConnectionEventKind::Login, [&](const ConnectionPtr& c, const Json& result) {
    EXPECT_EQ(c, connection);
    EXPECT_TRUE(result.as_object().contains("accessToken"));
    ++logins;
  });
  f.app.on_connection_event(ConnectionEventKind::Logout,
                            [&](const ConnectionPtr&, const Json&) { ++logouts; });

  Params params = external();
  params.provider = "socketio";
  params.connection = connection;
  const Json result = f.login(params);
  EXPECT_EQ(logins, 1);
  EXPECT_EQ(connection->authentication(),
            (Json(JsonObject{{"strategy", "jwt"}, {"accessToken", result.at("accessToken")}})));
  EXPECT_EQ(connection->user().at("email"), "a@b.c");

  Params logout = params;
  logout.authentication = connection->authentication();
  run(f.app.remove("authentication", std::nullopt, logout));
  EXPECT_EQ(logouts, 1);
  EXPECT_TRUE(connection->authentication().is_null());
  EXPECT_TRUE(connection->user().is_null());
  EXPECT_TRUE(connection->closed.empty());
}

TEST(AuthenticationService, LoginResultsAreNeverPublishedAndUserEventsHideSecrets) {
  AuthApp f;
  auto connection = std::make_shared<RecordingConnection>();
  f.app.connect(connection);
  f.app.publish([&](const Json&, const HookContext&) { return Channels{f.app.all_connections()}; });
  run(f.app.create("users", JsonObject{{"email", "z@b.c"}, {"password", "pw"}}));
  f.login();
  std::lock_guard lock(connection->mutex);
  // The user's own event goes out without the password hash; the login not at all.
  EXPECT_EQ(connection->events, std::vector<std::string>{R"(users created {"email":"z@b.c","id":2})"});
}

TEST(AuthenticationService, ConnectionIsClosedWhenItsTokenExpires) {
  App app;
  auto connection = std::make_shared<RecordingConnection>();
  JwtOptions jwt;
  jwt.secret = kSecret;
  jwt.expires_in = std::chrono::seconds(1);
  const std::string token = create_access_token(jwt, {}, "0");
  const Json result = JsonObject{{"accessToken", token}, {"user", JsonObject{{"id", 0}}}};
  boost::asio::io_context context;
  on_login(app, connection, result, context.get_executor());
  EXPECT_EQ(connection->user().at("id"), 0);
  context.run_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(connection->closed, "access token expired");
}

}  // namespace
}  // namespace plume::auth
