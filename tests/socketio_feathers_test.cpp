// Feathers' socket protocol over real sockets: the captured polling exchange, calls with
// acknowledgements over a WebSocket, Feathers errors in ack form, query types kept, service
// events through channels, namespaces and the connect hook.
#include "socketio_client.hpp"

#include <plume/core/channels.hpp>
#include <plume/core/service.hpp>
#include <plume/store/store.hpp>

#include <gtest/gtest.h>

namespace plume {
namespace {

using testing::PollingClient;
using testing::TestServer;
using testing::WsClient;
using namespace std::chrono_literals;

// Answers every call with what it received, so tests can see the params a socket call built.
class EchoService final : public Service {
 public:
  Task<Json> find(Params& params) override { co_return describe(params); }
  Task<Json> get(const Id& id, Params& params) override {
    Json out = describe(params);
    out.as_object()["id"] = id.to_json();
    co_return out;
  }
  Task<Json> create(Json data, Params& params) override {
    Json out = describe(params);
    out.as_object()["data"] = std::move(data);
    co_return out;
  }

 private:
  static Json describe(const Params& params) {
    return JsonObject{{"query", params.query},
                      {"provider", params.provider},
                      {"connected", params.connection != nullptr},
                      {"host", params.headers.contains("host")}};
  }
};

void setup(App& app) {
  app.use("messages", store::make_memory_service({}));
  app.use("echo", std::make_unique<EchoService>(), ServiceOptions{.methods = {"find", "get", "create"}});
  app.publish(publish_to_everyone());
}

JsonArray ack_args(const std::string& frame, const std::string& prefix) {
  EXPECT_EQ(frame.rfind(prefix, 0), 0u) << frame;
  return boost::json::parse(frame.substr(prefix.size())).as_array();
}

// A WebSocket client connected to "/".
struct ConnectedWs : WsClient {
  explicit ConnectedWs(std::uint16_t port) : WsClient(port, "/socket.io/?EIO=4&transport=websocket") {
    read();  // open packet
    send("40");
    read_until([](const std::string& f) { return f.rfind("40", 0) == 0; });
  }
};

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

TEST(SocketIoFeathers, CapturedPollingExchange) {
  TestServer server(setup);
  PollingClient client(server.port());
  std::string socket_sid = client.connect();
  EXPECT_EQ(socket_sid.size(), 20u);
  EXPECT_NE(socket_sid, client.sid());

  auto reply = client.post(std::string("420[\"find\",\"messages\",{\"$limit\":1}]\x1e") +
                           "421[\"create\",\"messages\",{\"text\":\"via-polling\",\"n\":9},{}]");
  EXPECT_EQ(reply.body, "ok");
  std::vector<std::string> packets;
  bool find_seen = false, create_seen = false, event_seen = false;
  for (int i = 0; i < 5 && !(find_seen && create_seen && event_seen); ++i) {
    for (auto& packet : testing::split_packets(client.get().body)) {
      if (starts_with(packet, "430")) {
        EXPECT_EQ(Json(ack_args(packet, "430")), boost::json::parse("[null,[]]"));
        find_seen = true;
      } else if (starts_with(packet, "431")) {
        EXPECT_EQ(Json(ack_args(packet, "431")),
                  boost::json::parse(R"([null,{"text":"via-polling","n":9,"id":1}])"));
        create_seen = true;
      } else if (starts_with(packet, "42")) {
        EXPECT_EQ(Json(ack_args(packet, "42")),
                  boost::json::parse(R"(["messages created",{"text":"via-polling","n":9,"id":1}])"));
        event_seen = true;
      }
    }
  }
  EXPECT_TRUE(find_seen);
  EXPECT_TRUE(create_seen);
  EXPECT_TRUE(event_seen);
}

TEST(SocketIoFeathers, CallsOverWebSocketAreAcknowledgedWithNullAndTheResult) {
  TestServer server(setup);
  ConnectedWs ws(server.port());
  ws.send(R"(422["create","messages",{"text":"client","n":7},{}])");
  auto ack = ws.read_until([](const std::string& f) { return starts_with(f, "432"); });
  EXPECT_EQ(Json(ack_args(ack, "432")), boost::json::parse(R"([null,{"text":"client","n":7,"id":1}])"));
  ws.send(R"(423["patch","messages",1,{"n":9},{"text":"client"}])");
  ack = ws.read_until([](const std::string& f) { return starts_with(f, "433"); });
  EXPECT_EQ(Json(ack_args(ack, "433")), boost::json::parse(R"([null,{"text":"client","n":9,"id":1}])"));
  ws.send(R"(424["get","messages",1])");  // the query argument is optional
  ack = ws.read_until([](const std::string& f) { return starts_with(f, "434"); });
  EXPECT_EQ(Json(ack_args(ack, "434")), boost::json::parse(R"([null,{"text":"client","n":9,"id":1}])"));
}

TEST(SocketIoFeathers, ErrorsAreAcknowledgedAsTheirJson) {
  TestServer server(setup);
  ConnectedWs ws(server.port());
  ws.send(R"(422["get","messages",99999,{}])");
  auto ack = ws.read_until([](const std::string& f) { return starts_with(f, "432"); });
  EXPECT_EQ(
      ack,
      R"(432[{"name":"NotFound","message":"No record found for id '99999'","code":404,"className":"not-found"}])");

  ws.send(R"(423["find","nowhere",{}])");
  ack = ws.read_until([](const std::string& f) { return starts_with(f, "433"); });
  EXPECT_EQ(ack_args(ack, "433")[0].at("message"), "Service 'nowhere' not found");
  EXPECT_EQ(ack_args(ack, "433")[0].at("code"), 404);

  ws.send(R"(424["remove","echo",1,{}])");
  ack = ws.read_until([](const std::string& f) { return starts_with(f, "434"); });
  EXPECT_EQ(ack_args(ack, "434")[0].at("message"), "Method 'remove' not allowed on service 'echo'");
  EXPECT_EQ(ack_args(ack, "434")[0].at("name"), "MethodNotAllowed");

  ws.send(R"(425["find","messages",{},{}])");
  ack = ws.read_until([](const std::string& f) { return starts_with(f, "435"); });
  EXPECT_EQ(ack_args(ack, "435")[0].at("message"), "Too many arguments for 'find' method");
  EXPECT_EQ(ack_args(ack, "435")[0].at("code"), 400);
}

TEST(SocketIoFeathers, QueryKeepsItsJsonTypesAndParamsNameTheSocket) {
  TestServer server(setup);
  ConnectedWs ws(server.port());
  ws.send(R"(427["find","echo",{"n":{"$gt":1},"flag":true,"none":null,"s":"1"}])");
  auto ack = ack_args(ws.read_until([](const std::string& f) { return starts_with(f, "437"); }), "437");
  EXPECT_EQ(ack[1].at("query"), boost::json::parse(R"({"n":{"$gt":1},"flag":true,"none":null,"s":"1"})"));
  EXPECT_EQ(ack[1].at("provider"), "socketio");
  EXPECT_EQ(ack[1].at("connected"), true);
  EXPECT_EQ(ack[1].at("host"), true);
}

TEST(SocketIoFeathers, TheMeshNodeListIsNotServedToSockets) {
  TestServer server([](App& app) {
    setup(app);
    app.use("mesh/nodes", store::make_memory_service({}));
  });
  ConnectedWs ws(server.port());
  ws.send(R"(428["find","mesh/nodes",{}])");
  auto ack = ack_args(ws.read_until([](const std::string& f) { return starts_with(f, "438"); }), "438");
  EXPECT_EQ(ack[0].at("name"), "Forbidden");
}

TEST(SocketIoFeathers, FireAndForgetCallsStillRun) {
  TestServer server(setup);
  ConnectedWs ws(server.port());
  ws.send(R"(42["create","messages",{"text":"no ack"}])");
  auto event = ws.read_until([](const std::string& f) { return starts_with(f, "42"); });
  EXPECT_EQ(Json(ack_args(event, "42")),
            boost::json::parse(R"(["messages created",{"text":"no ack","id":1}])"));
}

TEST(SocketIoFeathers, EventNamesNoServiceExposesGetNoAck) {
  TestServer server(setup);
  ConnectedWs ws(server.port());
  ws.send(R"(421["shout","messages",{}])");
  ws.send(R"(422["find","echo"])");
  // Only the second call is answered.
  auto frame = ws.read_until([](const std::string& f) { return starts_with(f, "43"); });
  EXPECT_TRUE(starts_with(frame, "432")) << frame;
}

TEST(SocketIoFeathers, OtherNamespacesAreRefused) {
  TestServer server(setup);
  WsClient ws(server.port(), "/socket.io/?EIO=4&transport=websocket");
  ws.read();
  ws.send("40/other,");
  EXPECT_EQ(ws.read(), R"(44/other,{"message":"Invalid namespace"})");
}

TEST(SocketIoFeathers, EventBeforeConnectClosesTheConnection) {
  TestServer server(setup);
  WsClient ws(server.port(), "/socket.io/?EIO=4&transport=websocket");
  ws.read();
  ws.send(R"(420["find","messages"])");
  EXPECT_TRUE(ws.wait_closed(2s));
}

TEST(SocketIoFeathers, ConnectHookCanRefuseWithConnectError) {
  auto options = testing::test_server_options();
  options.socketio.on_connect = [](std::shared_ptr<Connection> connection) -> Task<void> {
    if (connection->headers().contains("authorization")) {
      throw not_authenticated("jwt malformed", JsonObject{{"name", "JsonWebTokenError"}});
    }
    co_return;
  };
  TestServer server(setup, options);
  WsClient refused(server.port(), "/socket.io/?EIO=4&transport=websocket",
                   {{"Authorization", "Bearer nope"}});
  refused.read();
  refused.send("40");
  EXPECT_EQ(refused.read(), R"(44{"message":"jwt malformed","data":{"name":"JsonWebTokenError"}})");

  ConnectedWs accepted(server.port());
  accepted.send(R"(421["find","echo"])");
  EXPECT_NO_THROW(accepted.read_until([](const std::string& f) { return starts_with(f, "431"); }));
}

TEST(SocketIoFeathers, ConnectionsJoinAndLeaveTheApp) {
  TestServer server(setup);
  {
    ConnectedWs ws(server.port());
    EXPECT_EQ(server.app().all_connections().size(), 1u);
    ws.send("41");
    ws.send(R"(421["find","echo"])");  // after DISCONNECT the socket is gone: invalid state
    EXPECT_TRUE(ws.wait_closed(2s));
  }
  for (int i = 0; i < 50 && server.app().all_connections().size() != 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server.app().all_connections().size(), 0u);
}

TEST(SocketIoFeathers, AFloodFromOneClientDoesNotStopAnother) {
  TestServer server(setup);
  ConnectedWs flooder(server.port());
  for (int i = 0; i < 500; ++i) flooder.send("42" + std::to_string(i) + R"(["find","echo"])");
  ConnectedWs other(server.port());
  other.send(R"(421["find","echo"])");
  EXPECT_NO_THROW(other.read_until([](const std::string& f) { return starts_with(f, "431"); }));
  // Every flood call is answered, in full.
  int acks = 0;
  while (acks < 500) {
    auto frame = flooder.read(5s);
    if (!frame) break;
    if (starts_with(*frame, "43")) ++acks;
  }
  EXPECT_EQ(acks, 500);
}

}  // namespace
}  // namespace plume
