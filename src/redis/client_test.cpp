#include "redis/redis_test_support.hpp"
#include "testing/redis_server.hpp"

#include <plume/core/error.hpp>
#include <plume/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace plume::redis {
namespace {

using namespace std::string_literals;
using testing::fast_options;
using testing::run_test;

// One server for the tests that do not stop it; each test uses keys of its own.
class RedisClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<plume::testing::RedisServer>(); }
  static void TearDownTestSuite() { server_.reset(); }

  std::string key(const std::string& name) const {
    return std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ":" + name;
  }
  std::shared_ptr<Client> make_client() {
    return Client::create(context_.get_executor(), fast_options(server_->url()));
  }

  static std::unique_ptr<plume::testing::RedisServer> server_;
  boost::asio::io_context context_;
};

std::unique_ptr<plume::testing::RedisServer> RedisClient::server_;

TEST_F(RedisClient, SetThenGetReturnsTheValue) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto set = client->command({"SET", key("k"), "hello"});
    Reply ok = co_await std::move(set);
    EXPECT_EQ(ok.type, Reply::Type::Status);
    EXPECT_EQ(ok.str, "OK");
    auto get = client->command({"GET", key("k")});
    Reply value = co_await std::move(get);
    EXPECT_EQ(value.type, Reply::Type::String);
    EXPECT_EQ(value.str, "hello");
  }());
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(server_->redis_cli_line({"GET", key("k")}), "hello");
}

TEST_F(RedisClient, IntegersComeBackAsIntegers) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto first = client->command({"INCRBY", key("n"), "41"});
    co_await std::move(first);
    auto second = client->command({"INCR", key("n")});
    Reply reply = co_await std::move(second);
    EXPECT_EQ(reply.type, Reply::Type::Integer);
    EXPECT_EQ(reply.integer, 42);
  }());
}

TEST_F(RedisClient, MissingKeyIsNil) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto get = client->command({"GET", key("absent")});
    Reply reply = co_await std::move(get);
    EXPECT_TRUE(reply.is_nil());
  }());
}

TEST_F(RedisClient, ListRangeIsAnArrayInListOrder) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto push = client->command({"RPUSH", key("list"), "a", "b", "c"});
    co_await std::move(push);
    auto range = client->command({"LRANGE", key("list"), "0", "-1"});
    Reply reply = co_await std::move(range);
    EXPECT_EQ(reply.type, Reply::Type::Array);
    PLUME_CO_ASSERT(reply.elements.size() == 3u);
    EXPECT_EQ(reply.elements[0].str, "a");
    EXPECT_EQ(reply.elements[2].str, "c");
    auto empty = client->command({"LRANGE", key("none"), "0", "-1"});
    Reply nothing = co_await std::move(empty);
    EXPECT_EQ(nothing.type, Reply::Type::Array);
    EXPECT_TRUE(nothing.elements.empty());
  }());
}

TEST_F(RedisClient, ValuesWithZeroBytesAndCrLfAreBinarySafe) {
  auto client = make_client();
  const std::string value = "a\0b\r\nc\r\n\0"s;
  const std::string binary_key = key("k\0\r\n"s);
  run_test(context_, [&]() -> Task<void> {
    auto set = client->command({"SET", binary_key, value});
    co_await std::move(set);
    auto get = client->command({"GET", binary_key});
    Reply reply = co_await std::move(get);
    EXPECT_EQ(reply.str, value);
    auto length = client->command({"STRLEN", binary_key});
    Reply size = co_await std::move(length);
    EXPECT_EQ(size.integer, static_cast<std::int64_t>(value.size()));
  }());
}

TEST_F(RedisClient, OneMegabyteValueRoundTrips) {
  auto client = make_client();
  std::string value(1 << 20, '\0');
  std::mt19937 random(7);
  for (auto& c : value) c = static_cast<char>(random());
  run_test(context_, [&]() -> Task<void> {
    auto set = client->command({"SET", key("big"), value});
    co_await std::move(set);
    auto get = client->command({"GET", key("big")});
    Reply reply = co_await std::move(get);
    EXPECT_EQ(reply.str.size(), value.size());
    EXPECT_TRUE(reply.str == value);
  }());
}

TEST_F(RedisClient, PipelineOfAThousandCommandsRepliesInOrder) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    std::vector<std::vector<std::string>> commands;
    for (int i = 0; i < 1000; ++i)
      commands.push_back({"SET", key(std::to_string(i)), "v" + std::to_string(i)});
    for (int i = 0; i < 1000; ++i) commands.push_back({"GET", key(std::to_string(i))});
    auto pipeline = client->pipeline(std::move(commands));
    std::vector<Reply> replies = co_await std::move(pipeline);
    PLUME_CO_ASSERT(replies.size() == 2000u);
    for (int i = 0; i < 1000; ++i) {
      EXPECT_EQ(replies[i].str, "OK");
      EXPECT_EQ(replies[1000 + i].str, "v" + std::to_string(i)) << i;
    }
  }());
}

TEST_F(RedisClient, AThousandConcurrentCommandsAreWrittenAndAnsweredInOrder) {
  auto client = make_client();
  std::vector<std::int64_t> lengths(1000, -1);
  run_test(context_, [&]() -> Task<void> {
    auto executor = co_await boost::asio::this_coro::executor;
    int done = 0;
    for (int i = 0; i < 1000; ++i) {
      boost::asio::co_spawn(
          executor,
          [&, i]() -> Task<void> {
            auto push = client->command({"RPUSH", key("list"), std::to_string(i)});
            Reply reply = co_await std::move(push);
            lengths[i] = reply.integer;
            ++done;
          },
          boost::asio::detached);
    }
    auto all_done = testing::eventually([&] { return done == 1000; }, "1000 replies");
    co_await std::move(all_done);
    auto range = client->command({"LRANGE", key("list"), "0", "-1"});
    Reply list = co_await std::move(range);
    PLUME_CO_ASSERT(list.elements.size() == 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(list.elements[i].str, std::to_string(i));
  }());
  // Each RPUSH saw the list length its own position gives: replies were matched to commands.
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(lengths[i], i + 1) << i;
}

TEST_F(RedisClient, CallersOnFourThreadsEachGetTheirOwnReplies) {
  boost::asio::io_context client_context;
  auto guard = boost::asio::make_work_guard(client_context);
  std::thread client_thread([&] { client_context.run(); });
  auto client = Client::create(client_context.get_executor(), fast_options(server_->url()));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      boost::asio::io_context caller_context;
      run_test(caller_context, [&]() -> Task<void> {
        for (int i = 0; i < 250; ++i) {
          const std::string mine = "t" + std::to_string(t) + "-" + std::to_string(i);
          auto set = client->command({"SET", key(mine), mine});
          co_await std::move(set);
          auto get = client->command({"GET", key(mine)});
          Reply reply = co_await std::move(get);
          if (reply.str != mine) ++mismatches;
          auto incr = client->command({"INCR", key("counter")});
          co_await std::move(incr);
        }
      }());
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(server_->redis_cli_line({"GET", key("counter")}), "1000");
  client.reset();
  guard.reset();
  client_thread.join();  // returns only once the connection's work is all done
}

TEST_F(RedisClient, ErrorReplyThrowsReplyErrorFromCommand) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto push = client->command({"LPUSH", key("list"), "x"});
    co_await std::move(push);
    std::string message;
    try {
      auto get = client->command({"GET", key("list")});
      co_await std::move(get);
    } catch (const ReplyError& error) {
      message = error.what();
    }
    EXPECT_EQ(message.rfind("WRONGTYPE", 0), 0u) << message;
    // The connection carries on after an error reply.
    auto ping = client->command({"PING"});
    Reply pong = co_await std::move(ping);
    EXPECT_EQ(pong.str, "PONG");
  }());
}

TEST_F(RedisClient, PipelineReturnsErrorRepliesInPlace) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto pipeline = client->pipeline({{"SET", key("s"), "1"}, {"LPUSH", key("s"), "x"}, {"INCR", key("s")}});
    std::vector<Reply> replies = co_await std::move(pipeline);
    PLUME_CO_ASSERT(replies.size() == 3u);
    EXPECT_EQ(replies[0].str, "OK");
    EXPECT_TRUE(replies[1].is_error());
    EXPECT_EQ(replies[1].str.rfind("WRONGTYPE", 0), 0u);
    EXPECT_EQ(replies[2].integer, 2);
  }());
}

TEST_F(RedisClient, TransactionRunsThroughPipeline) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto pipeline = client->pipeline({{"MULTI"}, {"INCR", key("n")}, {"INCR", key("n")}, {"EXEC"}});
    std::vector<Reply> replies = co_await std::move(pipeline);
    PLUME_CO_ASSERT(replies.size() == 4u);
    EXPECT_EQ(replies[1].str, "QUEUED");
    PLUME_CO_ASSERT(replies[3].elements.size() == 2u);
    EXPECT_EQ(replies[3].elements[1].integer, 2);
  }());
}

TEST_F(RedisClient, BlockingMoveCompletesWhenAnotherClientPushes) {
  auto blocking = make_client();
  auto producer = make_client();
  run_test(context_, [&]() -> Task<void> {
    std::optional<Reply> moved;
    boost::asio::co_spawn(
        co_await boost::asio::this_coro::executor,
        [&]() -> Task<void> {
          auto take = blocking->command({"BLMOVE", key("queue"), key("processing"), "RIGHT", "LEFT", "0"});
          moved = co_await std::move(take);
        },
        boost::asio::detached);
    // The BLMOVE is parked in the server before anything is pushed: CLIENT LIST shows it.
    auto parked = testing::eventually(
        [&] {
          return server_->redis_cli({"CLIENT", "LIST"}).find("cmd=blmove") != std::string::npos;
        },
        "the BLMOVE to block");
    co_await std::move(parked);
    EXPECT_FALSE(moved.has_value());
    auto push = producer->command({"LPUSH", key("queue"), "job-1"});
    co_await std::move(push);
    auto arrived = testing::eventually([&] { return moved.has_value(); }, "the BLMOVE reply");
    co_await std::move(arrived);
    EXPECT_EQ(moved->str, "job-1");
    auto range = producer->command({"LRANGE", key("processing"), "0", "-1"});
    Reply processing = co_await std::move(range);
    PLUME_CO_ASSERT(processing.elements.size() == 1u);
    EXPECT_EQ(processing.elements[0].str, "job-1");
  }());
}

TEST_F(RedisClient, BlockingCommandMayWaitLongerThanTheCommandTimeout) {
  auto options = fast_options(server_->url());
  // Redis checks blocking timeouts in its cron (10 times a second by default), so the nil can
  // come ~100 ms after the second: the command timeout is the margin past the block and must
  // stay above that granularity.
  options.command_timeout = std::chrono::milliseconds(300);
  auto client = Client::create(context_.get_executor(), options);
  run_test(context_, [&]() -> Task<void> {
    // Blocks 1 s, over three times the command timeout, and answers nil: not a timeout.
    auto take = client->command({"BLMOVE", key("empty"), key("other"), "RIGHT", "LEFT", "1"});
    Reply reply = co_await std::move(take);
    EXPECT_TRUE(reply.is_nil());
  }());
}

TEST_F(RedisClient, ProducerWithPlainRedisCliIsSeenByTheClient) {
  auto client = make_client();
  server_->redis_cli({"LPUSH", key("jobs"), R"({"id":1})"});
  run_test(context_, [&]() -> Task<void> {
    auto pop = client->command({"RPOP", key("jobs")});
    Reply job = co_await std::move(pop);
    EXPECT_EQ(job.str, R"({"id":1})");
  }());
}

TEST_F(RedisClient, DatabaseFromTheUrlIsSelectedAndTheNameIsSet) {
  auto options = fast_options(server_->url() + "/3");
  options.client_name = "plume test";
  auto client = Client::create(context_.get_executor(), options);
  run_test(context_, [&]() -> Task<void> {
    auto set = client->command({"SET", key("k"), "in-3"});
    co_await std::move(set);
    auto name = client->command({"CLIENT", "GETNAME"});
    Reply reply = co_await std::move(name);
    EXPECT_EQ(reply.str, "plume_test");
  }());
  EXPECT_EQ(server_->redis_cli_line({"-n", "3", "GET", key("k")}), "in-3");
  EXPECT_EQ(server_->redis_cli_line({"-n", "0", "EXISTS", key("k")}), "0");
}

TEST_F(RedisClient, CommandAfterCloseFailsUnavailableAndCloseIsIdempotent) {
  auto client = make_client();
  run_test(context_, [&]() -> Task<void> {
    auto ping = client->command({"PING"});
    co_await std::move(ping);
    client->close();
    client->close();
    std::optional<Error> failure;
    try {
      auto get = client->command({"GET", key("k")});
      co_await std::move(get);
    } catch (const Error& error) {
      failure = error;
    }
    PLUME_CO_ASSERT(failure.has_value());
    EXPECT_EQ(failure->code(), ErrorCode::Unavailable);
    EXPECT_FALSE(client->connected());
  }());
}

Task<void> take_forever(std::shared_ptr<Client> client, std::string from, std::optional<Error>& failure,
                        bool& finished) {
  try {
    auto take = client->command({"BLMOVE", from, from + ":other", "RIGHT", "LEFT", "0"});
    client.reset();  // only the pending command keeps the connection now
    co_await std::move(take);
  } catch (const Error& error) {
    failure = error;
  }
  finished = true;
}

TEST_F(RedisClient, DroppingTheClientFailsPendingCommandsWithoutCrashing) {
  auto client = make_client();
  std::optional<Error> failure;
  bool finished = false;
  run_test(context_, [&]() -> Task<void> {
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                          take_forever(client, key("never"), failure, finished), boost::asio::detached);
    auto parked = testing::eventually(
        [&] {
          return server_->redis_cli({"CLIENT", "LIST"}).find("cmd=blmove") != std::string::npos;
        },
        "the BLMOVE to block");
    co_await std::move(parked);
    client.reset();  // the last reference
    auto done = testing::eventually([&] { return finished; }, "the pending command to fail");
    co_await std::move(done);
  }());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code(), ErrorCode::Unavailable);
}

TEST_F(RedisClient, CloseFromAnotherThreadFailsTheCommandInFlight) {
  auto client = make_client();
  std::optional<Error> failure;
  bool finished = false;
  run_test(context_, [&]() -> Task<void> {
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                          take_forever(client, key("never"), failure, finished), boost::asio::detached);
    auto parked = testing::eventually(
        [&] {
          return server_->redis_cli({"CLIENT", "LIST"}).find("cmd=blmove") != std::string::npos;
        },
        "the BLMOVE to block");
    co_await std::move(parked);
    std::thread([client] { client->close(); }).join();
    auto done = testing::eventually([&] { return finished; }, "the pending command to fail");
    co_await std::move(done);
  }());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code(), ErrorCode::Unavailable);
  EXPECT_NE(failure->message().find("closed"), std::string::npos) << failure->message();
}

TEST(RedisClientAuth, PasswordFromTheUrlAuthenticates) {
  plume::testing::RedisServer server({.password = "open sesame", .extra_args = {}});
  boost::asio::io_context context;
  auto client = Client::create(context.get_executor(), fast_options(server.url()));
  auto with_user = Client::create(
      context.get_executor(),
      fast_options("redis://default:open%20sesame@127.0.0.1:" + std::to_string(server.port())));
  auto without = Client::create(context.get_executor(),
                                fast_options("redis://127.0.0.1:" + std::to_string(server.port())));
  run_test(context, [&]() -> Task<void> {
    auto ping = client->command({"PING"});
    Reply pong = co_await std::move(ping);
    EXPECT_EQ(pong.str, "PONG");
    auto whoami = with_user->command({"ACL", "WHOAMI"});
    Reply user = co_await std::move(whoami);
    EXPECT_EQ(user.str, "default");
    std::string refused;
    try {
      auto get = without->command({"GET", "k"});
      co_await std::move(get);
    } catch (const ReplyError& error) {
      refused = error.what();
    }
    EXPECT_EQ(refused.rfind("NOAUTH", 0), 0u) << refused;
  }());
}

TEST(RedisClientAuth, WrongPasswordFailsUnavailableWithTheServersReason) {
  plume::testing::RedisServer server({.password = "right", .extra_args = {}});
  boost::asio::io_context context;
  auto options = fast_options("redis://:wrong@127.0.0.1:" + std::to_string(server.port()));
  options.connect_timeout = std::chrono::milliseconds(300);
  auto client = Client::create(context.get_executor(), options);
  std::optional<Error> failure;
  run_test(context, [&]() -> Task<void> {
    try {
      auto ping = client->command({"PING"});
      co_await std::move(ping);
    } catch (const Error& error) {
      failure = error;
    }
  }());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code(), ErrorCode::Unavailable);
  EXPECT_NE(
      failure->message().find("Redis at 127.0.0.1:" + std::to_string(server.port()) + " is unavailable"),
      std::string::npos)
      << failure->message();
  EXPECT_NE(failure->message().find("WRONGPASS"), std::string::npos) << failure->message();
}

}  // namespace
}  // namespace plume::redis
