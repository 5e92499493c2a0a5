#include <plume/auth/password.hpp>

#include "core/run_sync_for_test.hpp"

#include <plume/core/error.hpp>
#include <plume/core/task.hpp>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <future>
#include <thread>

namespace plume::auth {
namespace {

// Made by bcryptjs 3.0.3 (the version @feathersjs/authentication-local 5.0.x installs):
// require('bcryptjs').hashSync('secret', 10).
constexpr std::string_view kBcryptjsHash = "$2b$10$fF1jvhwXyIsdJwRiup2kNuvjv3J3YLfBxSuaFLZV0Dx98Qu.JESiO";
// bcryptjs hashes of 'secret' at cost 4 under the older prefixes ($2a$ from bcryptjs 2.x apps,
// $2y$ from PHP-made databases); bcryptjs' compare accepts all three.
constexpr std::string_view kPrefix2a = "$2a$04$GNWm1/bEqsRbap63kWtfqOQU5ECxXaD2heO7E5eAFkg/bmNwAwFoS";
constexpr std::string_view kPrefix2y = "$2y$04$GNWm1/bEqsRbap63kWtfqOQU5ECxXaD2heO7E5eAFkg/bmNwAwFoS";

TEST(Password, HashIsBcrypt2bWithTheRequestedCostAndARandomSalt) {
  const std::string first = hash_password_blocking("secret", 4);
  const std::string second = hash_password_blocking("secret", 4);
  EXPECT_EQ(first.substr(0, 7), "$2b$04$");
  EXPECT_EQ(first.size(), 60u);
  EXPECT_NE(first, second);
  EXPECT_TRUE(is_bcrypt_hash(first));
}

TEST(Password, DefaultCostIsTenAsInFeathers) {
  EXPECT_EQ(hash_password_blocking("secret").substr(0, 7), "$2b$10$");
}

TEST(Password, OwnHashVerifiesOnlyTheRightPassword) {
  const std::string hash = hash_password_blocking("correct horse", 4);
  EXPECT_TRUE(verify_password_blocking("correct horse", hash));
  EXPECT_FALSE(verify_password_blocking("correct hors", hash));
  EXPECT_FALSE(verify_password_blocking("", hash));
}

TEST(Password, HashesMadeByBcryptjsVerify) {
  EXPECT_TRUE(verify_password_blocking("secret", kBcryptjsHash));
  EXPECT_FALSE(verify_password_blocking("Secret", kBcryptjsHash));
}

TEST(Password, OlderPrefixes2aAnd2yVerify) {
  EXPECT_TRUE(verify_password_blocking("secret", kPrefix2a));
  EXPECT_TRUE(verify_password_blocking("secret", kPrefix2y));
  EXPECT_FALSE(verify_password_blocking("wrong", kPrefix2a));
  EXPECT_FALSE(verify_password_blocking("wrong", kPrefix2y));
}

TEST(Password, MalformedOrForeignHashesNeverMatch) {
  EXPECT_FALSE(verify_password_blocking("secret", ""));
  EXPECT_FALSE(verify_password_blocking("secret", "secret"));
  EXPECT_FALSE(verify_password_blocking("secret", "$2b$10$short"));
  // A SHA-512 crypt hash is a valid crypt setting but not bcrypt: refused, not verified.
  EXPECT_FALSE(verify_password_blocking(
      "secret", "$6$saltsalt$abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz1234"));
  EXPECT_FALSE(is_bcrypt_hash("$2x$04$GNWm1/bEqsRbap63kWtfqOQU5ECxXaD2heO7E5eAFkg/bmNwAwFoS"));
}

TEST(Password, PasswordsWithNulBytesAreRefusedNotTruncated) {
  EXPECT_THROW(hash_password_blocking(std::string("se\0cret", 7), 4), Error);
  EXPECT_FALSE(verify_password_blocking(std::string("secret\0x", 8), kBcryptjsHash));
}

TEST(Password, TaskVersionsRunOnTheWorkerPoolNotTheCaller) {
  WorkerPool workers(1);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  const bool ok = testing::run_sync([&]() -> Task<bool> {
    const std::string hash = co_await hash_password(workers, "secret", 4);
    co_await workers.run([&] { ran_on = std::this_thread::get_id(); });
    co_return co_await verify_password(workers, "secret", hash);
  }());
  EXPECT_TRUE(ok);
  EXPECT_NE(ran_on, caller);
  workers.stop();
}

// One thread and one waiting place: with both taken, a third hash fails at once with 503
// instead of queueing, and the pool takes work again once they are done.
TEST(PasswordHashing, AFullQueueIsRefusedAtOnceWithUnavailable) {
  PasswordHashing hashing({.threads = 1, .max_waiting = 1});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  boost::asio::io_context io;
  int finished = 0;
  for (int i = 0; i < 2; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> Task<void> {
          // Built in one statement, awaited in the next: GCC 12 can destroy a class-type
          // temporary made inside a co_await expression twice (here, the shared_future).
          auto job = hashing.run([released] { released.wait(); });
          co_await std::move(job);
          ++finished;
        },
        boost::asio::detached);
  }
  io.poll();  // both jobs are in the pool: one runs, one waits
  int status = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> Task<void> {
        try {
          co_await hashing.verify("secret", std::string(kBcryptjsHash));
        } catch (const Error& error) {
          status = error.status();
          EXPECT_EQ(error.data().at("retryAfter"), 1);
        }
      },
      boost::asio::detached);
  io.poll();
  EXPECT_EQ(status, 503);
  release.set_value();
  io.run();
  EXPECT_EQ(finished, 2);
  EXPECT_TRUE(testing::run_sync(hashing.verify("secret", std::string(kBcryptjsHash))));
}

}  // namespace
}  // namespace plume::auth
