#include "redis/redis_test_support.hpp"
#include "testing/redis_server.hpp"

#include <plume/core/error.hpp>
#include <plume/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace plume::redis {
namespace {

using testing::eventually;
using testing::fast_options;
using testing::run_test;

Task<std::optional<Error>> failure_of(std::shared_ptr<Client> client, std::vector<std::string> args) {
  try {
    auto op = client->command(std::move(args));
    co_await std::move(op);
  } catch (const Error& error) {
    co_return error;
  }
  co_return std::nullopt;
}

// Retries PING until it answers: the client reconnects by itself after a restart.
Task<void> until_answering(std::shared_ptr<Client> client) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      auto ping = client->command({"PING"});
      co_await std::move(ping);
      co_return;
    } catch (const Error&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
    }
    co_await testing::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(RedisReconnect, CommandFailsUnavailableWhileRedisIsDownAndWorksAfterItRestarts) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  auto options = fast_options(server.url());
  options.connect_timeout = std::chrono::milliseconds(300);
  auto client = Client::create(context.get_executor(), options);
  int connects = 0;
  std::vector<std::string> disconnects;
  client->on_connect([&] { ++connects; });
  client->on_disconnect([&](const std::string& reason) { disconnects.push_back(reason); });
  run_test(context, [&]() -> Task<void> {
    auto set = client->command({"SET", "k", "before"});
    co_await std::move(set);
    EXPECT_EQ(connects, 1);

    server.stop();
    auto noticed = eventually([&] { return !disconnects.empty(); }, "the disconnection");
    co_await std::move(noticed);
    EXPECT_FALSE(client->connected());
    auto attempt = failure_of(client, {"GET", "k"});
    std::optional<Error> failure = co_await std::move(attempt);
    EXPECT_TRUE(failure.has_value());
    if (failure) {
      EXPECT_EQ(failure->code(), ErrorCode::Unavailable);
      EXPECT_EQ(failure->message().rfind(
                    "Redis at 127.0.0.1:" + std::to_string(server.port()) + " is unavailable: ", 0),
                0u)
          << failure->message();
    }

    server.start();  // same port, empty data set (no persistence)
    auto back = until_answering(client);
    co_await std::move(back);
    auto set_again = client->command({"SET", "k", "after"});
    co_await std::move(set_again);
    auto get = client->command({"GET", "k"});
    Reply reply = co_await std::move(get);
    EXPECT_EQ(reply.str, "after");
    EXPECT_TRUE(client->connected());
    EXPECT_GE(connects, 2);
  }());
}

TEST(RedisReconnect, CommandsWaitForTheConnectionWhileRedisRestarts) {
  plume::testing::RedisServer server({.append_only = true, .password = {}, .extra_args = {}});
  boost::asio::io_context context;
  auto options = fast_options(server.url());
  options.connect_timeout = std::chrono::seconds(30);
  auto client = Client::create(context.get_executor(), options);
  run_test(context, [&]() -> Task<void> {
    auto set = client->command({"SET", "k", "kept"});
    co_await std::move(set);
    server.kill();  // appendfsync always: the acknowledged SET survives even SIGKILL
    auto noticed = eventually([&] { return !client->connected(); }, "the disconnection");
    co_await std::move(noticed);
    std::optional<Reply> reply;
    boost::asio::co_spawn(
        co_await boost::asio::this_coro::executor,
        [&]() -> Task<void> {
          auto get = client->command({"GET", "k"});
          reply = co_await std::move(get);
        },
        boost::asio::detached);
    server.start();
    auto answered = eventually([&] { return reply.has_value(); }, "the queued GET");
    co_await std::move(answered);
    EXPECT_EQ(reply->str, "kept");
  }());
}

TEST(RedisReconnect, CommandInFlightWhenTheConnectionDropsFailsUnavailable) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  auto client = Client::create(context.get_executor(), fast_options(server.url()));
  std::optional<Error> failure;
  bool finished = false;
  run_test(context, [&]() -> Task<void> {
    boost::asio::co_spawn(
        co_await boost::asio::this_coro::executor,
        [&]() -> Task<void> {
          auto attempt = failure_of(client, {"BLMOVE", "q", "p", "RIGHT", "LEFT", "0"});
          failure = co_await std::move(attempt);
          finished = true;
        },
        boost::asio::detached);
    auto parked = eventually(
        [&] {
          return server.redis_cli({"CLIENT", "LIST"}).find("cmd=blmove") != std::string::npos;
        },
        "the BLMOVE to block");
    co_await std::move(parked);
    server.kill();
    auto done = eventually([&] { return finished; }, "the BLMOVE to fail");
    co_await std::move(done);
  }());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code(), ErrorCode::Unavailable);
  EXPECT_NE(failure->message().find("is unavailable"), std::string::npos) << failure->message();
}

TEST(RedisReconnect, CommandWithoutReplyInTimeFailsAndTheConnectionIsReset) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  auto options = fast_options(server.url());
  options.command_timeout = std::chrono::milliseconds(200);
  auto client = Client::create(context.get_executor(), options);
  int connects = 0;
  client->on_connect([&] { ++connects; });
  run_test(context, [&]() -> Task<void> {
    auto ping = client->command({"PING"});
    co_await std::move(ping);
    // Writes are held for 3 s: the SET gets no reply in time, reads still pass.
    server.redis_cli({"CLIENT", "PAUSE", "3000", "WRITE"});
    auto attempt = failure_of(client, {"SET", "k", "v"});
    std::optional<Error> failure = co_await std::move(attempt);
    PLUME_CO_ASSERT(failure.has_value());
    EXPECT_EQ(failure->code(), ErrorCode::Unavailable);
    EXPECT_NE(failure->message().find("no reply to SET within 200 ms"), std::string::npos)
        << failure->message();
    // A fresh connection: its replies cannot be confused with the late reply to the SET.
    auto back = until_answering(client);
    co_await std::move(back);
    EXPECT_GE(connects, 2);
    server.redis_cli({"CLIENT", "UNPAUSE"});
  }());
}

}  // namespace
}  // namespace plume::redis
