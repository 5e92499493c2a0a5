// Login flooding over real sockets: failed local logins are throttled per client address and per
// account with Feathers' 429 and Retry-After, and password hashing cannot starve the store
// calls that share the node.
#include "socketio_client.hpp"
#include "test_server.hpp"

#include <plume/auth/authentication.hpp>
#include <plume/auth/secret_fields.hpp>
#include <plume/core/schema.hpp>
#include <plume/store/store.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <future>
#include <thread>

namespace plume {
namespace {

using testing::HttpClient;
using testing::HttpReply;
using testing::TestServer;
using namespace std::chrono_literals;

void users_and_authentication(App& app) {
  store::StoreOptions users;
  users.schema = Schema::from_json(
      parse_json(R"({"email": {"type": "string"}, "password": {"type": "string", "secret": true}})"));
  app.use("users", store::make_memory_service(std::move(users)))
      .hooks(auth::secret_field_hooks({"password"}, 4));
  auth::AuthenticationOptions options;
  options.secret = "a-throttle-test-secret-of-at-least-32-bytes";
  options.local.hash_cost = 4;
  auth::use_authentication(app, std::move(options));
}

HttpReply log_in(HttpClient& client, const std::string& email, const std::string& password) {
  return client.post("/authentication",
                     R"({"strategy":"local","email":")" + email + R"(","password":")" + password + R"("})");
}

void sign_up(std::uint16_t port, const std::string& email, const std::string& password) {
  HttpClient client(port);
  ASSERT_EQ(client.post("/users", R"({"email":")" + email + R"(","password":")" + password + R"("})").status,
            201u);
}

// The defaults: 50 failed logins per address and 10 per account within 10 minutes.
TEST(AuthThrottle, FailedLoginsFromOneAddressAreRefusedWith429AndRetryAfter) {
  TestServer server(users_and_authentication);
  sign_up(server.port(), "b@example.com", "right");
  HttpClient attacker(server.port(), "127.0.0.1");
  // Guesses spread over many accounts, so only the address limit applies.
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(log_in(attacker, "victim" + std::to_string(i) + "@example.com", "guess").status, 401u) << i;
  }
  const HttpReply refused = log_in(attacker, "victim50@example.com", "guess");
  ASSERT_EQ(refused.status, 429u) << refused.body;
  EXPECT_EQ(refused.json().at("name"), "TooManyRequests");
  EXPECT_EQ(refused.json().at("className"), "too-many-requests");
  EXPECT_EQ(refused.json().at("code"), 429);
  ASSERT_TRUE(refused.has_header("Retry-After"));
  EXPECT_GT(std::stoi(refused.header("Retry-After")), 0);
  // Even a right password waits while the address is throttled...
  EXPECT_EQ(log_in(attacker, "b@example.com", "right").status, 429u);
  // ...but another client logs in to another account as before.
  HttpClient other(server.port(), "127.0.0.2");
  EXPECT_EQ(log_in(other, "b@example.com", "right").status, 201u);
}

TEST(AuthThrottle, FailedLoginsForOneAccountAreRefusedFromEveryAddress) {
  TestServer server(users_and_authentication);
  sign_up(server.port(), "a@example.com", "right");
  sign_up(server.port(), "b@example.com", "right");
  // Ten guesses from ten addresses: each address stays under its own limit.
  for (int i = 0; i < 10; ++i) {
    HttpClient client(server.port(), "127.0.1." + std::to_string(i + 1));
    ASSERT_EQ(log_in(client, "a@example.com", "guess").status, 401u) << i;
  }
  HttpClient fresh(server.port(), "127.0.2.1");
  const HttpReply refused = log_in(fresh, "a@example.com", "right");
  EXPECT_EQ(refused.status, 429u) << refused.body;
  EXPECT_TRUE(refused.has_header("Retry-After"));
  EXPECT_EQ(log_in(fresh, "b@example.com", "right").status, 201u);
}

TEST(AuthThrottle, SocketLoginsAreThrottledToo) {
  TestServer server(users_and_authentication);
  sign_up(server.port(), "a@example.com", "right");
  testing::WsClient socket(server.port(), "/socket.io/?EIO=4&transport=websocket");
  ASSERT_TRUE(socket.read(5s));
  socket.send("40");
  ASSERT_TRUE(socket.read(5s));
  std::string last;
  for (int i = 0; i < 11; ++i) {
    socket.send(
        R"(42)" + std::to_string(i) +
        R"(["create","authentication",{"strategy":"local","email":"a@example.com","password":"guess"}])");
    for (auto frame = socket.read(5s); frame; frame = socket.read(5s)) {
      if (frame->rfind("43" + std::to_string(i), 0) == 0) {
        last = *frame;
        break;
      }
    }
  }
  EXPECT_NE(last.find(R"("name":"TooManyRequests")"), std::string::npos) << last;
  EXPECT_NE(last.find(R"("retryAfter":)"), std::string::npos) << last;
}

// bcrypt at cost 14 takes about a second per check: were the hashes on the workers SQLite
// uses, a store call would wait behind them. The bound is functional: the store call answers
// while every login is still waiting for its hash.
TEST(AuthThrottle, StoreCallsAreNotStarvedWhileHashingIsSaturated) {
  const auto directory = std::filesystem::temp_directory_path() /
                         ("plume-throttle-" + std::to_string(::getpid()) + "-" +
                          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(directory);
  std::shared_ptr<store::SqliteDatabase> database;
  TestServer server([&](App& app) {
    database = store::open_sqlite((directory / "todos.db").string(), app.workers());
    app.use("todos", store::make_sqlite_service(database, "todos", {}));
    // No secret-field hook: the test stores a ready-made hash of cost 14.
    app.use("users", store::make_memory_service({}));
    auth::AuthenticationOptions options;
    options.secret = "a-throttle-test-secret-of-at-least-32-bytes";
    auth::use_authentication(app, std::move(options));
  });
  {
    HttpClient client(server.port());
    ASSERT_EQ(client.post("/todos", R"({"title":"ship"})").status, 201u);
    const std::string hash = auth::hash_password_blocking("right", 14);
    ASSERT_EQ(client.post("/users", R"({"email":"slow@example.com","password":")" + hash + R"("})").status,
              201u);
  }
  const std::size_t logins = server.app().workers().size() + 1;
  std::vector<std::future<unsigned>> answered;
  for (std::size_t i = 0; i < logins; ++i) {
    answered.push_back(std::async(std::launch::async, [port = server.port()] {
      HttpClient client(port, 60s);
      return log_in(client, "slow@example.com", "right").status;
    }));
  }
  std::this_thread::sleep_for(300ms);  // the logins reach their hashes
  HttpClient reader(server.port(), 60s);
  const HttpReply todo = reader.get("/todos/1");
  EXPECT_EQ(todo.status, 200u) << todo.body;
  std::size_t done_before_the_read = 0;
  for (auto& login : answered) {
    if (login.wait_for(0s) == std::future_status::ready) ++done_before_the_read;
  }
  EXPECT_EQ(done_before_the_read, 0u) << "the store call waited behind password hashes";
  for (auto& login : answered) {
    const unsigned status = login.get();
    // Each login either ran (201) or found the hashing queue full (503): never anything else.
    EXPECT_TRUE(status == 201u || status == 503u) << status;
  }
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace plume
