// Engine.IO v4 packet text forms, checked against the captured transcripts.
#include "transport/socketio/engineio_packet.hpp"

#include <gtest/gtest.h>

namespace plume::transport::socketio {
namespace {

TEST(EngineIoPacket, ParsesEveryTypeDigit) {
  EXPECT_EQ(parse_engine_packet("1")->type, EnginePacketType::Close);
  EXPECT_EQ(parse_engine_packet("2")->type, EnginePacketType::Ping);
  EXPECT_EQ(parse_engine_packet("3")->type, EnginePacketType::Pong);
  EXPECT_EQ(parse_engine_packet("5")->type, EnginePacketType::Upgrade);
  EXPECT_EQ(parse_engine_packet("6")->type, EnginePacketType::Noop);
  auto probe = parse_engine_packet("2probe");
  EXPECT_EQ(probe->type, EnginePacketType::Ping);
  EXPECT_EQ(probe->data, "probe");
}

TEST(EngineIoPacket, MessageCarriesTheSocketIoPacket) {
  auto packet = parse_engine_packet(R"(420["find","messages",{"$limit":1}])");
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type, EnginePacketType::Message);
  EXPECT_EQ(packet->data, R"(20["find","messages",{"$limit":1}])");
  EXPECT_FALSE(packet->binary);
}

TEST(EngineIoPacket, RejectsEmptyAndUnknownTypes) {
  EXPECT_FALSE(parse_engine_packet(""));
  EXPECT_FALSE(parse_engine_packet("7"));
  EXPECT_FALSE(parse_engine_packet("x"));
}

TEST(EngineIoPacket, BinaryPollingPacketIsMarked) {
  auto packet = parse_engine_packet("bAQID");
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->binary);
  EXPECT_EQ(packet->data, "AQID");
}

TEST(EngineIoPayload, SplitsOnTheRecordSeparator) {
  // The captured POST: two calls in one body.
  std::string body =
      "420[\"find\",\"messages\",{\"$limit\":1}]\x1e"
      "421[\"create\",\"messages\",{\"text\":\"via-polling\",\"n\":9},{}]";
  auto packets = parse_engine_payload(body);
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 2u);
  EXPECT_EQ((*packets)[0].data, R"(20["find","messages",{"$limit":1}])");
  EXPECT_EQ((*packets)[1].data, R"(21["create","messages",{"text":"via-polling","n":9},{}])");
}

TEST(EngineIoPayload, OneMalformedPacketRejectsTheBody) {
  EXPECT_FALSE(parse_engine_payload(std::string("40\x1e") + "9oops"));
  EXPECT_FALSE(parse_engine_payload(std::string("40\x1e")));
  EXPECT_FALSE(parse_engine_payload(""));
}

TEST(EngineIoPacket, EncodesAndJoinsAsPollingGetReturnsThem) {
  EXPECT_EQ(encode_engine_packet(EnginePacketType::Ping), "2");
  EXPECT_EQ(encode_engine_packet(EnginePacketType::Message, "40{\"sid\":\"x\"}"), "440{\"sid\":\"x\"}");
  EXPECT_EQ(join_engine_packets({"42[\"messages created\",{}]", "431[null,{}]"}),
            std::string("42[\"messages created\",{}]\x1e"
                        "431[null,{}]"));
  EXPECT_EQ(join_engine_packets({"6"}), "6");
}

}  // namespace
}  // namespace plume::transport::socketio
