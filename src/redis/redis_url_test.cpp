#include <plume/redis/client.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace plume::redis {
namespace {

TEST(ParseRedisUrl, HostAloneGetsDefaultPortAndDatabaseZero) {
  const auto endpoint = parse_redis_url("redis://cache.internal");
  EXPECT_EQ(endpoint.host, "cache.internal");
  EXPECT_EQ(endpoint.port, 6379);
  EXPECT_EQ(endpoint.db, 0);
  EXPECT_TRUE(endpoint.user.empty());
  EXPECT_TRUE(endpoint.password.empty());
}

TEST(ParseRedisUrl, ReadsPortAndDatabase) {
  const auto endpoint = parse_redis_url("redis://127.0.0.1:6380/4");
  EXPECT_EQ(endpoint.host, "127.0.0.1");
  EXPECT_EQ(endpoint.port, 6380);
  EXPECT_EQ(endpoint.db, 4);
}

TEST(ParseRedisUrl, PasswordWithoutUserIsThePasswordForm) {
  const auto endpoint = parse_redis_url("redis://:s3cret@localhost:6379");
  EXPECT_TRUE(endpoint.user.empty());
  EXPECT_EQ(endpoint.password, "s3cret");
}

TEST(ParseRedisUrl, UserAndPasswordAreBothKeptForAclAuth) {
  const auto endpoint = parse_redis_url("redis://worker:pa%40ss@localhost/2");
  EXPECT_EQ(endpoint.user, "worker");
  EXPECT_EQ(endpoint.password, "pa@ss");  // percent-decoded
  EXPECT_EQ(endpoint.db, 2);
}

TEST(ParseRedisUrl, RejectsOtherSchemes) {
  EXPECT_THROW(parse_redis_url("http://127.0.0.1:6379"), std::invalid_argument);
}

TEST(ParseRedisUrl, RejectsANonNumericDatabase) {
  EXPECT_THROW(parse_redis_url("redis://127.0.0.1:6379/main"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://127.0.0.1:6379/-1"), std::invalid_argument);
}

TEST(ParseRedisUrl, RejectsAMissingHostOrPortZero) {
  EXPECT_THROW(parse_redis_url("redis://"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://127.0.0.1:0"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("not a url"), std::invalid_argument);
}

}  // namespace
}  // namespace plume::redis
