// Engine.IO v4 at /socket.io/ over real sockets: the polling handshake and its open packet,
// Engine.IO error replies, long-polling, the server-driven heartbeat, maxPayload, a direct
// WebSocket and the upgrade from polling.
#include "socketio_client.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace plume {
namespace {

using testing::HttpClient;
using testing::PollingClient;
using testing::TestServer;
using testing::WsClient;
using namespace std::chrono_literals;

transport::ServerOptions fast_heartbeat(std::chrono::milliseconds interval,
                                        std::chrono::milliseconds timeout) {
  auto options = testing::test_server_options();
  options.socketio.ping_interval = interval;
  options.socketio.ping_timeout = timeout;
  return options;
}

TEST(SocketIoEngine, PollingHandshakeReturnsTheOpenPacket) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  auto reply = client.handshake();
  ASSERT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("Content-Type"), "text/plain; charset=UTF-8");
  ASSERT_EQ(client.sid().size(), 20u);
  EXPECT_EQ(reply.body, "0{\"sid\":\"" + client.sid() +
                            "\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,"
                            "\"maxPayload\":1000000}");
}

TEST(SocketIoEngine, EveryHandshakeGetsItsOwnSid) {
  TestServer server([](App&) {});
  PollingClient a(server.port());
  PollingClient b(server.port());
  a.handshake();
  b.handshake();
  EXPECT_NE(a.sid(), b.sid());
}

TEST(SocketIoEngine, ProtocolVersionThreeIsRefused) {
  TestServer server([](App&) {});
  HttpClient http(server.port());
  auto reply = http.get("/socket.io/?EIO=3&transport=polling");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.body, R"({"code":5,"message":"Unsupported protocol version"})");
}

TEST(SocketIoEngine, UnknownTransportIsRefused) {
  TestServer server([](App&) {});
  HttpClient http(server.port());
  auto reply = http.get("/socket.io/?EIO=4&transport=flash");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.body, R"({"code":0,"message":"Transport unknown"})");
}

TEST(SocketIoEngine, UnknownSidIsRefused) {
  TestServer server([](App&) {});
  HttpClient http(server.port());
  auto reply = http.get("/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.header("Content-Type"), "application/json");
  EXPECT_EQ(reply.body, R"({"code":1,"message":"Session ID unknown"})");
}

TEST(SocketIoEngine, HandshakeMustBeAGet) {
  TestServer server([](App&) {});
  HttpClient http(server.port());
  auto reply = http.post("/socket.io/?EIO=4&transport=polling", "40");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.body, R"({"code":2,"message":"Bad handshake method"})");
}

TEST(SocketIoEngine, WebSocketTransportWithoutUpgradeIsABadRequest) {
  TestServer server([](App&) {});
  HttpClient http(server.port());
  auto reply = http.get("/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.body, R"({"code":3,"message":"Bad request"})");
}

TEST(SocketIoEngine, PostIsAnsweredOkAsHtml) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  client.handshake();
  auto reply = client.post("40");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.body, "ok");
  EXPECT_EQ(reply.header("Content-Type"), "text/html");
}

TEST(SocketIoEngine, PollingRepliesCarryCorsHeaders) {
  TestServer server([](App&) {});
  HttpClient http(server.port());
  auto reply = http.get("/socket.io/?EIO=4&transport=polling", {{"Origin", "http://app.example"}});
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("Access-Control-Allow-Origin"), "http://app.example");
}

TEST(SocketIoEngine, ParkedPollIsAnsweredByTheNextPing) {
  TestServer server([](App&) {}, fast_heartbeat(200ms, 1000ms));
  PollingClient client(server.port());
  client.handshake();
  auto started = std::chrono::steady_clock::now();
  auto reply = client.get();
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(reply.body, "2");
  EXPECT_GE(waited, 150ms);
  EXPECT_EQ(client.post("3").body, "ok");
}

TEST(SocketIoEngine, UnansweredPingClosesTheSession) {
  TestServer server([](App&) {}, fast_heartbeat(100ms, 100ms));
  PollingClient client(server.port());
  client.handshake();
  EXPECT_EQ(client.get().body, "2");
  // No pong: the session ends pingTimeout later and its sid is forgotten.
  std::this_thread::sleep_for(400ms);
  auto reply = client.get();
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.body, R"({"code":1,"message":"Session ID unknown"})");
}

TEST(SocketIoEngine, AnsweredPingsKeepTheSessionAlive) {
  TestServer server([](App&) {}, fast_heartbeat(100ms, 100ms));
  PollingClient client(server.port());
  client.handshake();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(client.get().body, "2");
    EXPECT_EQ(client.post("3").body, "ok");
  }
}

TEST(SocketIoEngine, ClosePacketEndsTheSession) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  client.handshake();
  EXPECT_EQ(client.post("1").body, "ok");
  auto reply = client.get();
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.body, R"({"code":1,"message":"Session ID unknown"})");
}

TEST(SocketIoEngine, ConcurrentPollClosesTheSession) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  client.handshake();
  std::string target = client.target();
  auto parked = std::async(std::launch::async, [&] { return client.get(); });
  std::this_thread::sleep_for(100ms);
  HttpClient second(server.port());
  auto overlap = second.get(target);
  EXPECT_EQ(overlap.status, 500u);
  // The parked poll ends with the close packet.
  EXPECT_EQ(parked.get().body, "1");
}

TEST(SocketIoEngine, PostOverMaxPayloadIs413AndClosesTheSession) {
  auto options = testing::test_server_options();
  options.socketio.max_payload = 1000;
  TestServer server([](App&) {}, options);
  PollingClient client(server.port());
  client.handshake();
  auto reply = client.post("4" + std::string(1200, 'x'));
  EXPECT_EQ(reply.status, 413u);
  PollingClient again(server.port());
  auto later = client.get();
  EXPECT_EQ(later.body, R"({"code":1,"message":"Session ID unknown"})");
}

TEST(SocketIoEngine, MalformedPacketClosesTheSession) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  client.handshake();
  EXPECT_EQ(client.post("9nonsense").body, "ok");
  EXPECT_EQ(client.get().body, R"({"code":1,"message":"Session ID unknown"})");
}

TEST(SocketIoEngine, DirectWebSocketStartsWithTheOpenPacket) {
  TestServer server([](App&) {});
  WsClient ws(server.port(), "/socket.io/?EIO=4&transport=websocket");
  auto open = ws.read();
  ASSERT_TRUE(open);
  auto payload = testing::open_payload(*open);
  EXPECT_EQ(payload.at("upgrades"), JsonArray{});
  EXPECT_EQ(payload.at("sid").as_string().size(), 20u);
  EXPECT_EQ(payload.at("pingInterval"), 25000);
  ws.send("40");
  auto connected = ws.read();
  ASSERT_TRUE(connected);
  EXPECT_EQ(connected->rfind("40{\"sid\":\"", 0), 0u) << *connected;
}

TEST(SocketIoEngine, WebSocketPingsAndClosesOnTimeout) {
  TestServer server([](App&) {}, fast_heartbeat(100ms, 100ms));
  WsClient ws(server.port(), "/socket.io/?EIO=4&transport=websocket");
  ASSERT_TRUE(ws.read());
  EXPECT_EQ(ws.read(1s), "2");
  ws.send("3");
  EXPECT_EQ(ws.read(1s), "2");
  // Unanswered: the server closes the socket.
  EXPECT_TRUE(ws.wait_closed(2s));
}

TEST(SocketIoEngine, WebSocketMessageOverMaxPayloadClosesIt) {
  auto options = testing::test_server_options();
  options.socketio.max_payload = 1000;
  TestServer server([](App&) {}, options);
  WsClient ws(server.port(), "/socket.io/?EIO=4&transport=websocket");
  ASSERT_TRUE(ws.read());
  ws.send("4" + std::string(2000, 'x'));
  EXPECT_TRUE(ws.wait_closed(2s));
}

TEST(SocketIoEngine, UpgradeFromPollingMovesTheSessionToTheWebSocket) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  client.handshake();
  client.post("40");
  auto connected = client.get_until([](const std::string& p) { return p.rfind("40", 0) == 0; });

  // A poll is parked while the WebSocket probes; the probe flushes it with a noop.
  auto parked = std::async(std::launch::async, [&] { return client.get(); });
  std::this_thread::sleep_for(100ms);
  WsClient ws(server.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + client.sid());
  ws.send("2probe");
  EXPECT_EQ(ws.read(), "3probe");
  EXPECT_EQ(parked.get().body, "6");
  ws.send("5");
  // From now on the session speaks over the WebSocket; polling is refused.
  ws.send("41");
  ws.send("40");
  auto again = ws.read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->rfind("40{\"sid\":\"", 0), 0u) << *again;
  HttpClient http(server.port());
  auto poll = http.get(client.target());
  EXPECT_EQ(poll.body, R"({"code":3,"message":"Bad request"})");
}

TEST(SocketIoEngine, PollArrivingAfterTheProbeIsAnsweredWithANoop) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  client.handshake();
  client.post("40");
  client.get_until([](const std::string& p) { return p.rfind("40", 0) == 0; });

  // The client's next GET was already on its way when the WebSocket probed: it reaches the
  // server after "2probe". The client sends "5" only once that GET returns, so it must not
  // stay parked until the next ping.
  WsClient ws(server.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + client.sid());
  ws.send("2probe");
  EXPECT_EQ(ws.read(), "3probe");
  std::this_thread::sleep_for(50ms);
  auto late = std::async(std::launch::async, [&] { return client.get(); });
  ASSERT_EQ(late.wait_for(2s), std::future_status::ready) << "the poll stayed parked during the upgrade";
  EXPECT_EQ(late.get().body, "6");

  ws.send("5");
  ws.send("41");
  ws.send("40");
  auto again = ws.read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->rfind("40{\"sid\":\"", 0), 0u) << *again;
}

TEST(SocketIoEngine, SecondUpgradeOfOneSessionIsRefused) {
  TestServer server([](App&) {});
  PollingClient client(server.port());
  client.handshake();
  WsClient first(server.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + client.sid());
  EXPECT_THROW(WsClient(server.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + client.sid()),
               std::runtime_error);
}

TEST(SocketIoEngine, ServerStopAnswersAParkedPollWithClose) {
  auto server = std::make_unique<TestServer>([](App&) {});
  PollingClient client(server->port());
  client.handshake();
  auto parked = std::async(std::launch::async, [&] { return client.get(); });
  std::this_thread::sleep_for(100ms);
  server->server().stop();
  EXPECT_EQ(parked.get().body, "1");
}

// 1000 sessions that never CONNECT (the default cap) hold their memory until their connect
// timeout; past that a handshake answers 503 at once.
TEST(SocketIoEngine, HandshakesPastTheUnconnectedSessionCapAreRefusedWith503) {
  TestServer server([](App&) {});
  HttpClient http(server.port());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(http.get("/socket.io/?EIO=4&transport=polling").status, 200u) << i;
  }
  const auto refused = http.get("/socket.io/?EIO=4&transport=polling");
  EXPECT_EQ(refused.status, 503u) << refused.body;
  EXPECT_EQ(refused.json().at("name"), "Unavailable");
  // A WebSocket handshake is refused too.
  EXPECT_THROW(WsClient(server.port(), "/socket.io/?EIO=4&transport=websocket"), std::runtime_error);
}

TEST(SocketIoEngine, TheSessionCapsAreConfigurableAndAConnectedClientFreesItsUnconnectedSlot) {
  auto options = testing::test_server_options();
  options.socketio.max_sessions = 3;
  options.socketio.max_unconnected = 2;
  TestServer server([](App&) {}, options);
  PollingClient first(server.port());
  PollingClient second(server.port());
  ASSERT_EQ(first.handshake().status, 200u);
  ASSERT_EQ(second.handshake().status, 200u);
  HttpClient http(server.port());
  EXPECT_EQ(http.get("/socket.io/?EIO=4&transport=polling").status, 503u) << "two unconnected sessions";
  first.post("40");
  first.get_until([](const std::string& p) { return p.rfind("40", 0) == 0; });
  PollingClient third(server.port());
  EXPECT_EQ(third.handshake().status, 200u) << "the connected client no longer counts as unconnected";
  EXPECT_EQ(http.get("/socket.io/?EIO=4&transport=polling").status, 503u) << "three sessions in all";
  // A session that closes gives its place back.
  second.post("1");
  for (int i = 0; i < 50; ++i) {
    if (http.get("/socket.io/?EIO=4&transport=polling").status == 200u) return;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "the closed session's place was not given back";
}

}  // namespace
}  // namespace plume
