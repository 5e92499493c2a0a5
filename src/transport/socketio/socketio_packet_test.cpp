// Socket.IO v5 packets: the captured client calls and server replies, and socket.io-parser's
// payload rules.
#include "transport/socketio/socketio_packet.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <cmath>

namespace plume::transport::socketio {
namespace {

Json json(std::string_view text) { return boost::json::parse(text); }

struct CapturedCall {
  const char* wire;  // after the Engine.IO "4"
  std::uint64_t id;
  const char* args;
};

TEST(SocketIoPacket, ParsesEveryCapturedFeathersCall) {
  const CapturedCall calls[] = {
      {R"(20["find","messages",{"$limit":1,"n":{"$gt":1}}])", 0,
       R"(["find","messages",{"$limit":1,"n":{"$gt":1}}])"},
      {R"(21["get","messages",0,{"$select":["text"]}])", 1, R"(["get","messages",0,{"$select":["text"]}])"},
      {R"(22["create","messages",{"text":"client","n":7},{}])", 2,
       R"(["create","messages",{"text":"client","n":7},{}])"},
      {R"(23["update","messages",7,{"text":"client2","n":8},{}])", 3,
       R"(["update","messages",7,{"text":"client2","n":8},{}])"},
      {R"(24["patch","messages",7,{"n":9},{"text":"client2"}])", 4,
       R"(["patch","messages",7,{"n":9},{"text":"client2"}])"},
      {R"(25["shout","messages",{"text":"yo"},{"q":1}])", 5, R"(["shout","messages",{"text":"yo"},{"q":1}])"},
      {R"(26["remove","messages",7,{}])", 6, R"(["remove","messages",7,{}])"},
      {R"(28["create","authentication",{"strategy":"local","email":"a@b.c","password":"secret"},{}])", 8,
       R"(["create","authentication",{"strategy":"local","email":"a@b.c","password":"secret"},{}])"},
      {R"(210["remove","authentication",null,{}])", 10, R"(["remove","authentication",null,{}])"},
  };
  for (const auto& call : calls) {
    auto packet = parse_socket_packet(call.wire);
    ASSERT_TRUE(packet) << call.wire;
    EXPECT_EQ(packet->type, SocketPacketType::Event) << call.wire;
    EXPECT_EQ(packet->nsp, "/");
    EXPECT_EQ(packet->id, call.id) << call.wire;
    EXPECT_EQ(*packet->data, json(call.args)) << call.wire;
    EXPECT_EQ(encode_socket_packet(*packet), call.wire);
  }
}

TEST(SocketIoPacket, ConnectWithAndWithoutAuth) {
  auto plain = parse_socket_packet("0");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->type, SocketPacketType::Connect);
  EXPECT_FALSE(plain->data);
  // A CONNECT payload must be an object; Feathers ignores it.
  auto with_auth = parse_socket_packet(R"(0{"token":"abc"})");
  ASSERT_TRUE(with_auth);
  EXPECT_EQ(*with_auth->data, json(R"({"token":"abc"})"));
  EXPECT_FALSE(parse_socket_packet(R"(0[1])"));
}

TEST(SocketIoPacket, NamespaceIsReadUpToTheComma) {
  auto packet = parse_socket_packet("0/other,");
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->nsp, "/other");
  auto event = parse_socket_packet(R"(2/admin,7["x"])");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->nsp, "/admin");
  EXPECT_EQ(event->id, 7u);
}

TEST(SocketIoPacket, EncodesTheCapturedServerPackets) {
  EXPECT_EQ(encode_socket_packet(
                {.type = SocketPacketType::Connect, .data = json(R"({"sid":"C5dMNlSkWdsWd9USAAAA"})")}),
            R"(0{"sid":"C5dMNlSkWdsWd9USAAAA"})");
  EXPECT_EQ(encode_socket_packet({.type = SocketPacketType::ConnectError,
                                  .nsp = "/other",
                                  .data = json(R"({"message":"Invalid namespace"})")}),
            R"(4/other,{"message":"Invalid namespace"})");
  EXPECT_EQ(encode_socket_packet(
                {.type = SocketPacketType::ConnectError,
                 .data = json(R"({"message":"jwt malformed","data":{"name":"JsonWebTokenError"}})")}),
            R"(4{"message":"jwt malformed","data":{"name":"JsonWebTokenError"}})");
  EXPECT_EQ(encode_socket_packet({.type = SocketPacketType::Disconnect}), "1");
  EXPECT_EQ(
      encode_ack(
          2,
          json(
              R"([{"name":"NotFound","message":"No record found for id '99999'","code":404,"className":"not-found"}])")),
      R"(32[{"name":"NotFound","message":"No record found for id '99999'","code":404,"className":"not-found"}])");
  EXPECT_EQ(encode_ack(0, json(R"([null,{"total":6}])")), R"(30[null,{"total":6}])");
  EXPECT_EQ(encode_event("messages created", json(R"({"text":"a","id":5})")),
            R"(2["messages created",{"text":"a","id":5}])");
}

TEST(SocketIoPacket, NumbersKeepTheirJavaScriptForm) {
  EXPECT_EQ(encode_event("messages patched", json(R"({"n":2.5,"m":3.0})")),
            R"(2["messages patched",{"n":2.5,"m":3}])");
}

// JavaScript prints 533333333333333333333333333333333333333 as 5.333333333333333e+38; read back,
// that text must give the same double, so the number is echoed unchanged (Boost 1.81's own
// conversion lands one unit in the last place off and wrote 5.3333333333333325e+38).
TEST(SocketIoPacket, DoublesRoundTripExactly) {
  for (const char* wire : {R"(31[null,{"n":5.333333333333333e+38}])",
                           R"(31[null,{"n":533333333333333333333333333333333333333}])"}) {
    auto packet = parse_socket_packet(wire);
    ASSERT_TRUE(packet) << wire;
    EXPECT_EQ(packet->data->at(1).at("n").as_double(), 5.333333333333333e+38) << wire;
    EXPECT_EQ(encode_socket_packet(*packet), R"(31[null,{"n":5.333333333333333e+38}])") << wire;
  }
  auto small = parse_socket_packet(R"(2["x",-2.2250738585072014e-308,0.30000000000000004,1e400])");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->data->at(1).as_double(), -2.2250738585072014e-308);
  EXPECT_EQ(small->data->at(2).as_double(), 0.30000000000000004);
  EXPECT_TRUE(std::isinf(small->data->at(3).as_double()));  // as JSON.parse gives Infinity
}

TEST(SocketIoPacket, RejectsWhatSocketIoParserRejects) {
  std::string error;
  EXPECT_FALSE(parse_socket_packet("", &error));
  EXPECT_FALSE(parse_socket_packet("9", &error));
  EXPECT_EQ(error, "unknown packet type");
  EXPECT_FALSE(parse_socket_packet("2", &error));                // EVENT without payload
  EXPECT_FALSE(parse_socket_packet("2[]", &error));              // empty EVENT
  EXPECT_FALSE(parse_socket_packet(R"(2{"a":1})", &error));      // EVENT payload not an array
  EXPECT_FALSE(parse_socket_packet(R"(2["connect"])", &error));  // reserved event name
  EXPECT_FALSE(parse_socket_packet(R"(2[true])", &error));
  EXPECT_FALSE(parse_socket_packet(R"(2["find",)", &error));  // truncated JSON
  EXPECT_EQ(error, "invalid payload");
  EXPECT_FALSE(parse_socket_packet("1{}", &error));  // DISCONNECT takes nothing
  EXPECT_FALSE(parse_socket_packet("3{}", &error));  // ACK takes an array
  EXPECT_FALSE(parse_socket_packet("299999999999999999999[\"x\"]", &error));
  EXPECT_FALSE(parse_socket_packet("5x-[\"x\"]", &error));
  EXPECT_TRUE(parse_socket_packet(R"(2[5])"));  // numeric event names are allowed
  EXPECT_TRUE(parse_socket_packet("1"));
}

TEST(SocketIoPacket, BinaryEventCountsAttachments) {
  auto packet = parse_socket_packet(R"(51-3["upload",{"_placeholder":true,"num":0}])");
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type, SocketPacketType::BinaryEvent);
  EXPECT_EQ(packet->attachments, 1u);
  EXPECT_EQ(packet->id, 3u);
  EXPECT_EQ(encode_socket_packet(*packet), R"(51-3["upload",{"_placeholder":true,"num":0}])");
}

}  // namespace
}  // namespace plume::transport::socketio
