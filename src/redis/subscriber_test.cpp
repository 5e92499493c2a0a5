#include "redis/redis_test_support.hpp"
#include "testing/redis_server.hpp"

#include <plume/redis/client.hpp>

#include <boost/asio/io_context.hpp>

#include <signal.h>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace plume::redis {
namespace {

using testing::eventually;
using testing::fast_options;
using testing::run_test;

using Messages = std::vector<std::pair<std::string, std::string>>;

Subscriber::MessageHandler collect(Messages& messages) {
  return [&messages](std::string_view channel, std::string_view payload) {
    messages.emplace_back(std::string(channel), std::string(payload));
  };
}

Task<std::int64_t> publish(std::shared_ptr<Client> client, std::string channel, std::string payload) {
  auto op = client->command({"PUBLISH", std::move(channel), std::move(payload)});
  Reply receivers = co_await std::move(op);
  co_return receivers.integer;
}

TEST(RedisSubscriber, DeliversMessagesInOrderOnceSubscribed) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  Messages messages;
  auto subscriber = Subscriber::create(context.get_executor(), fast_options(server.url()), collect(messages));
  auto publisher = Client::create(context.get_executor(), fast_options(server.url()));
  run_test(context, [&]() -> Task<void> {
    auto subscribe = subscriber->subscribe({"news", "sport"});
    co_await std::move(subscribe);
    for (int i = 0; i < 100; ++i) {
      auto sent = publish(publisher, i % 2 ? "news" : "sport", std::to_string(i));
      EXPECT_EQ(co_await std::move(sent), 1);  // subscribe() resolved: Redis counts the subscriber
    }
    auto other = publish(publisher, "weather", "rain");
    EXPECT_EQ(co_await std::move(other), 0);
    auto all = eventually([&] { return messages.size() == 100; }, "100 messages");
    co_await std::move(all);
  }());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(messages[i].first, i % 2 ? "news" : "sport");
    EXPECT_EQ(messages[i].second, std::to_string(i));
  }
}

TEST(RedisSubscriber, BinaryPayloadsArriveIntact) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  Messages messages;
  auto subscriber = Subscriber::create(context.get_executor(), fast_options(server.url()), collect(messages));
  auto publisher = Client::create(context.get_executor(), fast_options(server.url()));
  const std::string payload("x\0y\r\nz", 6);
  run_test(context, [&]() -> Task<void> {
    auto subscribe = subscriber->subscribe({"bin"});
    co_await std::move(subscribe);
    auto sent = publish(publisher, "bin", payload);
    co_await std::move(sent);
    auto arrived = eventually([&] { return messages.size() == 1; }, "the message");
    co_await std::move(arrived);
  }());
  EXPECT_EQ(messages[0].second, payload);
}

TEST(RedisSubscriber, PatternSubscriptionReportsTheMatchingChannel) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  Messages messages;
  auto subscriber = Subscriber::create(context.get_executor(), fast_options(server.url()), collect(messages));
  auto publisher = Client::create(context.get_executor(), fast_options(server.url()));
  run_test(context, [&]() -> Task<void> {
    auto subscribe = subscriber->psubscribe({"nodes.*"});
    co_await std::move(subscribe);
    auto sent = publish(publisher, "nodes.a1", "up");
    EXPECT_EQ(co_await std::move(sent), 1);
    auto arrived = eventually([&] { return messages.size() == 1; }, "the message");
    co_await std::move(arrived);
  }());
  EXPECT_EQ(messages[0].first, "nodes.a1");
  EXPECT_EQ(messages[0].second, "up");
}

TEST(RedisSubscriber, UnsubscribedChannelIsNoLongerDelivered) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  Messages messages;
  auto subscriber = Subscriber::create(context.get_executor(), fast_options(server.url()), collect(messages));
  auto publisher = Client::create(context.get_executor(), fast_options(server.url()));
  run_test(context, [&]() -> Task<void> {
    auto subscribe = subscriber->subscribe({"a", "b"});
    co_await std::move(subscribe);
    auto unsubscribe = subscriber->unsubscribe({"a"});
    co_await std::move(unsubscribe);
    auto to_a = publish(publisher, "a", "1");
    EXPECT_EQ(co_await std::move(to_a), 0);
    auto to_b = publish(publisher, "b", "2");
    EXPECT_EQ(co_await std::move(to_b), 1);
    auto arrived = eventually([&] { return messages.size() == 1; }, "the message on b");
    co_await std::move(arrived);
  }());
  EXPECT_EQ(messages[0].first, "b");
}

TEST(RedisSubscriber, SubscriptionsAreRenewedAfterRedisRestarts) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  Messages messages;
  auto subscriber = Subscriber::create(context.get_executor(), fast_options(server.url()), collect(messages));
  auto publisher = Client::create(context.get_executor(), fast_options(server.url()));
  int renewals = 0;
  subscriber->on_connect([&] { ++renewals; });
  run_test(context, [&]() -> Task<void> {
    auto subscribe = subscriber->subscribe({"events"});
    co_await std::move(subscribe);
    auto pattern = subscriber->psubscribe({"jobs.*"});
    co_await std::move(pattern);
    auto first = eventually([&] { return renewals == 1; }, "the first on_connect");
    co_await std::move(first);

    server.stop();
    server.start();
    auto renewed = eventually([&] { return renewals == 2; }, "on_connect after resubscribing");
    co_await std::move(renewed);
    EXPECT_TRUE(subscriber->connected());
    // on_connect runs once Redis confirmed the renewed subscriptions: a publish now is seen.
    std::int64_t receivers = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (receivers == 0 && std::chrono::steady_clock::now() < deadline) {
      try {
        auto sent = publish(publisher, "events", "after restart");
        receivers = co_await std::move(sent);
      } catch (const std::exception&) {
        // the publisher is still reconnecting
      }
      if (receivers == 0) co_await testing::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(receivers, 1);
    auto by_pattern = publish(publisher, "jobs.7", "done");
    EXPECT_EQ(co_await std::move(by_pattern), 1);
    auto arrived = eventually([&] { return messages.size() == 2; }, "both messages");
    co_await std::move(arrived);
  }());
  EXPECT_EQ(messages[0].second, "after restart");
  EXPECT_EQ(messages[1].first, "jobs.7");
}

TEST(RedisSubscriber, HeartbeatFindsAServerThatWentSilentAndResubscribes) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  Messages messages;
  auto options = fast_options(server.url());
  options.heartbeat = std::chrono::milliseconds(100);
  options.command_timeout = std::chrono::milliseconds(300);
  auto subscriber = Subscriber::create(context.get_executor(), options, collect(messages));
  int renewals = 0;
  subscriber->on_connect([&] { ++renewals; });
  run_test(context, [&]() -> Task<void> {
    auto subscribe = subscriber->subscribe({"events"});
    co_await std::move(subscribe);
    // A frozen server keeps the TCP connection open and says nothing: only a heartbeat that
    // goes unanswered reveals it.
    ::kill(server.pid(), SIGSTOP);
    auto lost = eventually([&] { return !subscriber->connected(); }, "the silent server to be noticed");
    co_await std::move(lost);
    ::kill(server.pid(), SIGCONT);
    auto renewed = eventually([&] { return renewals >= 2; }, "the resubscription");
    co_await std::move(renewed);
    EXPECT_EQ(server.redis_cli_line({"PUBSUB", "NUMSUB", "events"}), "events\n1");
  }());
}

TEST(RedisSubscriber, OnConnectAddedWhileSubscribedRunsAtOnce) {
  plume::testing::RedisServer server;
  boost::asio::io_context context;
  Messages messages;
  auto subscriber = Subscriber::create(context.get_executor(), fast_options(server.url()), collect(messages));
  run_test(context, [&]() -> Task<void> {
    auto subscribe = subscriber->subscribe({"x"});
    co_await std::move(subscribe);
    bool ran = false;
    subscriber->on_connect([&] { ran = true; });
    auto called = eventually([&] { return ran; }, "the late listener");
    co_await std::move(called);
  }());
}

}  // namespace
}  // namespace plume::redis
