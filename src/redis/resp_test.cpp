#include "redis/resp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace plume::redis {
namespace {

using namespace std::string_literals;
using std::chrono::milliseconds;

TEST(AppendCommand, EncodesArgumentsAsBulkStringsSoBinaryDataSurvives) {
  std::string out;
  append_command(out, {"SET", "k", "a\0b\r\n"s});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n"s);
}

TEST(AppendCommand, AppendsAfterWhatIsAlreadyThere) {
  std::string out = "*1\r\n$4\r\nPING\r\n";
  append_command(out, {"PING"});
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
}

TEST(ReplyReader, ReturnsNothingUntilAReplyIsCompleteThenEveryType) {
  ReplyReader reader;
  const std::string start = "*5\r\n$3\r\nab";
  reader.feed(start.data(), start.size());
  EXPECT_FALSE(reader.next().has_value());
  const std::string rest = "c\r\n:42\r\n$-1\r\n+OK\r\n-ERR bad\r\n";
  reader.feed(rest.data(), rest.size());
  const auto reply = reader.next();
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->type, Reply::Type::Array);
  ASSERT_EQ(reply->elements.size(), 5u);
  EXPECT_EQ(reply->elements[0].type, Reply::Type::String);
  EXPECT_EQ(reply->elements[0].str, "abc");
  EXPECT_EQ(reply->elements[1].integer, 42);
  EXPECT_TRUE(reply->elements[2].is_nil());
  EXPECT_EQ(reply->elements[3].type, Reply::Type::Status);
  EXPECT_EQ(reply->elements[3].str, "OK");
  EXPECT_TRUE(reply->elements[4].is_error());
  EXPECT_EQ(reply->elements[4].str, "ERR bad");
  EXPECT_FALSE(reader.next().has_value());
}

TEST(ReplyReader, ThrowsOnBytesThatAreNotResp) {
  ReplyReader reader;
  const std::string garbage = "?what\r\n";
  reader.feed(garbage.data(), garbage.size());
  EXPECT_THROW(reader.next(), std::runtime_error);
}

TEST(BlockTime, OrdinaryCommandsDoNotBlock) {
  EXPECT_FALSE(block_time({"GET", "k"}).has_value());
  EXPECT_FALSE(block_time({"XREAD", "COUNT", "1", "STREAMS", "BLOCK", "0"}).has_value());
}

TEST(BlockTime, ListCommandsTakeTheirTimeoutInSeconds) {
  EXPECT_EQ(block_time({"BLMOVE", "a", "b", "LEFT", "RIGHT", "1.5"}), milliseconds(1500));
  EXPECT_EQ(block_time({"blpop", "a", "b", "2"}), milliseconds(2000));
  EXPECT_EQ(block_time({"BLMPOP", "3", "1", "a", "LEFT"}), milliseconds(3000));
}

TEST(BlockTime, ZeroMeansForever) {
  EXPECT_EQ(block_time({"BRPOPLPUSH", "a", "b", "0"}), milliseconds::max());
  EXPECT_EQ(block_time({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}),
            milliseconds::max());
}

TEST(BlockTime, StreamReadsTakeBlockInMilliseconds) {
  EXPECT_EQ(block_time({"XREAD", "COUNT", "10", "BLOCK", "250", "STREAMS", "s", "$"}), milliseconds(250));
  EXPECT_EQ(block_time({"WAIT", "1", "100"}), milliseconds(100));
}

}  // namespace
}  // namespace plume::redis
