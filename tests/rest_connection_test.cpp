// HTTP connection behaviour over real sockets: limits with Feathers-shaped errors, timeouts that
// close slow and idle clients, keep-alive, pipelining in order, Connection: close, HTTP/1.0 and
// graceful stop.
#include "test_server.hpp"

#include <plume/core/service.hpp>

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <future>
#include <thread>

namespace plume {
namespace {

using testing::HttpClient;
using testing::TestServer;
using namespace std::chrono_literals;
namespace http = boost::beast::http;

// get(id) waits `id` milliseconds on a timer (never blocking the I/O thread), then answers.
class SlowService final : public Service {
 public:
  Task<Json> get(const Id& id, Params&) override {
    auto delay = std::chrono::milliseconds(id.as_integer_like().value_or(0));
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_return JsonObject{{"id", id.to_json()}};
  }
  Task<Json> create(Json data, Params&) override { co_return data; }
};

void use_slow(App& app) { app.use("slow", std::make_unique<SlowService>()); }

std::string request_text(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

TEST(RestConnection, SecondServerOnATakenPortFailsToStart) {
  TestServer first([](App&) {});
  App app;
  transport::ServerOptions options = testing::test_server_options();
  options.port = first.port();
  transport::Server second(app, options);
  try {
    second.start();
    FAIL() << "a second server started on port " << first.port();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
        << error.what();
  }
}

TEST(RestConnection, BodyOverTheLimitIs413AndCloses) {
  auto options = testing::test_server_options();
  options.body_limit = 64;
  TestServer server(use_slow, options);
  HttpClient client(server.port());
  // Big enough that the server must drain it for the client to read the reply intact.
  auto reply = client.post("/slow", R"({"text":")" + std::string(3 * 1024 * 1024, 'x') + R"("})");
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(
      boost::json::serialize(reply.json()),
      R"({"name":"PayloadTooLarge","message":"Request body is larger than 64 bytes","code":413,"className":"payload-too-large"})");
  EXPECT_TRUE(client.read_until_closed(2s).has_value());
}

TEST(RestConnection, ChunkedBodyOverTheLimitIs413) {
  auto options = testing::test_server_options();
  options.body_limit = 16;
  TestServer server(use_slow, options);
  HttpClient client(server.port());
  client.send_raw(
      "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "20\r\n{\"t\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}\r\n0\r\n\r\n");
  EXPECT_EQ(client.read_reply().status, 413);
}

TEST(RestConnection, BodyWithinTheLimitIsAccepted) {
  auto options = testing::test_server_options();
  options.body_limit = 64;
  TestServer server(use_slow, options);
  HttpClient client(server.port());
  EXPECT_EQ(client.post("/slow", R"({"text":"short"})").status, 201);
}

TEST(RestConnection, HugeHeadersAre431) {
  auto options = testing::test_server_options();
  options.header_limit = 1024;
  TestServer server(use_slow, options);
  HttpClient client(server.port());
  auto reply = client.get("/slow/1", {{"X-Big", std::string(4000, 'a')}});
  EXPECT_EQ(reply.status, 431);
  EXPECT_EQ(reply.json().at("code"), 431);
  EXPECT_EQ(reply.json().at("message"), "Request headers are larger than 1024 bytes");
  EXPECT_TRUE(client.read_until_closed(2s).has_value());
}

TEST(RestConnection, MalformedRequestIs400AndCloses) {
  TestServer server(use_slow);
  HttpClient client(server.port());
  client.send_raw("GET /slow HTTP/1.1\r\nHost: t\r\nContent-Length: nope\r\n\r\n");
  auto reply = client.read_reply();
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.json().at("name"), "BadRequest");
  EXPECT_TRUE(client.read_until_closed(2s).has_value());
}

TEST(RestConnection, IncompleteHeadIsClosedAfterHeaderTimeout) {
  auto options = testing::test_server_options();
  options.header_timeout = 200ms;
  TestServer server(use_slow, options);
  HttpClient client(server.port());
  client.send_raw("GET /slow/1 HTTP/1.1\r\nHost: t\r\n");
  auto started = std::chrono::steady_clock::now();
  auto closed = client.read_until_closed(3s);
  ASSERT_TRUE(closed.has_value());
  EXPECT_TRUE(closed->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
}

TEST(RestConnection, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  auto options = testing::test_server_options();
  options.idle_timeout = 200ms;
  TestServer server(use_slow, options);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/slow/0").status, 200);
  EXPECT_TRUE(client.read_until_closed(3s).has_value());
}

TEST(RestConnection, KeepAliveServesManyRequestsOnOneConnection) {
  auto options = testing::test_server_options();
  options.idle_timeout = 2s;
  TestServer server(use_slow, options);
  HttpClient client(server.port());
  for (int i = 0; i < 20; ++i) {
    auto reply = client.get("/slow/0");
    ASSERT_EQ(reply.status, 200);
    EXPECT_TRUE(reply.keep_alive);
  }
}

TEST(RestConnection, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server(use_slow);
  HttpClient client(server.port());
  // The first request is the slowest: it must still be answered first.
  client.send_raw(request_text("/slow/150") + request_text("/slow/1") + request_text("/slow/2"));
  EXPECT_EQ(client.read_reply().json().at("id"), "150");
  EXPECT_EQ(client.read_reply().json().at("id"), "1");
  EXPECT_EQ(client.read_reply().json().at("id"), "2");
}

TEST(RestConnection, ConnectionCloseIsHonoured) {
  TestServer server(use_slow);
  HttpClient client(server.port());
  auto reply = client.get("/slow/0", {{"Connection", "close"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(reply.keep_alive);
  EXPECT_TRUE(client.read_until_closed(2s).has_value());
}

TEST(RestConnection, Http10WithoutKeepAliveGetsOneAnswerThenClose) {
  TestServer server(use_slow);
  HttpClient client(server.port());
  client.send_raw("GET /slow/0 HTTP/1.0\r\n\r\n");
  auto closed = client.read_until_closed(2s);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->rfind("HTTP/1.0 200", 0), 0u) << *closed;
  EXPECT_NE(closed->find(R"({"id":"0"})"), std::string::npos);
}

TEST(RestConnection, ExpectContinueGetsA100BeforeTheBody) {
  TestServer server(use_slow);
  HttpClient client(server.port());
  client.send_raw(
      "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 8\r\n"
      "Expect: 100-continue\r\n\r\n");
  auto interim = client.read_reply();
  EXPECT_EQ(interim.status, 100);
  client.send_raw(R"({"a":12})");
  auto reply = client.read_reply();
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.json().at("a"), 12);
}

TEST(RestConnection, GracefulStopFinishesTheInFlightRequest) {
  auto options = testing::test_server_options();
  options.shutdown_grace = 5s;
  App app;
  use_slow(app);
  transport::Server server(app, options);
  auto port = server.start();

  auto in_flight = std::async(std::launch::async, [port] {
    HttpClient client(port);
    return client.get("/slow/400");
  });
  std::this_thread::sleep_for(150ms);
  auto stop_started = std::chrono::steady_clock::now();
  server.stop();
  server.wait();
  auto stop_took = std::chrono::steady_clock::now() - stop_started;

  auto reply = in_flight.get();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json().at("id"), "400");
  EXPECT_FALSE(reply.keep_alive);  // the stopping server says Connection: close
  EXPECT_LT(stop_took, 3s);
  EXPECT_THROW(HttpClient(port, 1s).get("/slow/0"), std::runtime_error);
}

TEST(RestConnection, StopClosesIdleConnectionsAndReturnsPromptly) {
  App app;
  use_slow(app);
  transport::Server server(app, testing::test_server_options());
  auto port = server.start();
  HttpClient idle(port);
  EXPECT_EQ(idle.get("/slow/0").status, 200);
  auto started = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_TRUE(idle.read_until_closed(1s).has_value());
}

TEST(RestConnection, GraceExpiryAbandonsARequestThatTakesTooLong) {
  auto options = testing::test_server_options();
  options.shutdown_grace = 200ms;
  App app;
  use_slow(app);
  transport::Server server(app, options);
  auto port = server.start();
  HttpClient client(port);
  client.send_raw(request_text("/slow/5000"));
  std::this_thread::sleep_for(100ms);
  auto started = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_TRUE(client.read_until_closed(1s).has_value());
}

}  // namespace
}  // namespace plume
