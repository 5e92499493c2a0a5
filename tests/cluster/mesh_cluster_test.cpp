// Several `plume serve` processes on loopback forming a mesh: discovery over UDP multicast and
// over a real Redis, every method called through a gateway node, events reaching a Socket.io
// client on the gateway, a replica killed under load, a node rejoining, a node with the wrong
// secret kept out.
#include "cluster/cluster.hpp"
#include "socketio_client.hpp"
#include "testing/redis_server.hpp"

#include <atomic>
#include <mutex>
#include <thread>

namespace plume::testing {
namespace {

constexpr std::string_view kSecret = "mesh-test-secret-0123456789abcdef";

std::string discovery_block(const std::string& discovery, std::uint16_t multicast_port,
                            std::string_view secret = kSecret) {
  std::string text = "mesh:\n  secret: " + std::string(secret) + "\n  discovery: " + discovery + "\n";
  if (discovery == "udp") {
    text += "  multicast: { port: " + std::to_string(multicast_port) + ", interface: 127.0.0.1 }\n";
  }
  return text;
}

std::string node_config(const std::string& name, const std::string& services, const std::string& mesh) {
  return "name: " + name +
         "\nhost: 127.0.0.1\nport: 0\nthreads: 1\nworkers: 1\n"
         "realtime: { publish: everyone }\n" +
         services + mesh;
}

std::string messages_on(const std::filesystem::path& database) {
  return "databases: { main: sqlite://" + database.string() +
         " }\n"
         "services:\n"
         "  messages:\n"
         "    database: main\n"
         "    schema: { text: { type: string }, n: { type: integer } }\n";
}

// Whether the gateway lists a node with this name as up in mesh/nodes.
bool lists_node_up(const PlumeNode& gateway, const std::string& name) {
  const HttpReply reply = gateway.get("/mesh/nodes");
  if (reply.status != 200) return false;
  const Json nodes = reply.json();
  if (!nodes.is_array()) return false;
  for (const auto& node : nodes.as_array()) {
    const auto& object = node.as_object();
    const auto* id = object.if_contains("id");
    const auto* state = object.if_contains("state");
    if (id != nullptr && id->is_string() && std::string_view(id->as_string()).starts_with(name) &&
        state != nullptr && state->is_string() && state->as_string() == "up") {
      return true;
    }
  }
  return false;
}

// A Socket.io client over WebSocket connected to namespace "/", collecting events.
class EventWatcher {
 public:
  explicit EventWatcher(std::uint16_t port) : ws_(port, "/socket.io/?EIO=4&transport=websocket") {
    const auto open = ws_.read(10s);
    if (!open || open->front() != '0') throw std::runtime_error("no Engine.IO open packet");
    ws_.send("40");
    for (auto frame = ws_.read(10s); frame; frame = ws_.read(10s)) {
      if (frame->rfind("40", 0) == 0) return;
    }
    throw std::runtime_error("no Socket.IO CONNECT");
  }
  // Collects "42[...]" events until `count` of `name` arrived or `within` passed.
  std::vector<Json> events(const std::string& name, std::size_t count,
                           std::chrono::milliseconds within = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (matching(name).size() < count && std::chrono::steady_clock::now() < deadline) {
      auto frame = ws_.read(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!frame) break;
      if (*frame == "2") {
        ws_.send("3");
      } else if (frame->rfind("42", 0) == 0) {
        seen_.push_back(boost::json::parse(frame->substr(2)));
      }
    }
    return matching(name);
  }

 private:
  std::vector<Json> matching(const std::string& name) const {
    std::vector<Json> out;
    for (const auto& event : seen_) {
      if (event.as_array().at(0).as_string() == name) out.push_back(event.as_array().at(1));
    }
    return out;
  }
  WsClient ws_;
  std::vector<Json> seen_;
};

// Every method of a remote service through the gateway, errors included.
void exercise_every_method(const PlumeNode& gateway, const PlumeNode& owner) {
  HttpReply created = gateway.post("/messages", R"({"text":"through the mesh","n":1})");
  ASSERT_EQ(created.status, 201u) << created.body;
  const Json id = created.json().at("id");
  const std::string path = "/messages/" + to_json_text(id);
  // The record lives on the owner.
  EXPECT_EQ(owner.get(path).json().at("text"), "through the mesh");

  HttpReply got = gateway.get(path);
  ASSERT_EQ(got.status, 200u) << got.body;
  EXPECT_EQ(got.json().at("text"), "through the mesh");

  HttpReply found = gateway.get("/messages?n=1");
  ASSERT_EQ(found.status, 200u) << found.body;
  EXPECT_EQ(found.json().as_array().size(), 1u);

  HttpReply patched = gateway.send(http::verb::patch, path, R"({"n":2})");
  ASSERT_EQ(patched.status, 200u) << patched.body;
  EXPECT_EQ(patched.json().at("n"), 2);

  HttpReply updated = gateway.send(http::verb::put, path, R"({"text":"replaced","n":3})");
  ASSERT_EQ(updated.status, 200u) << updated.body;
  EXPECT_EQ(updated.json().at("text"), "replaced");

  HttpReply removed = gateway.send(http::verb::delete_, path);
  ASSERT_EQ(removed.status, 200u) << removed.body;

  // Errors keep their class, code and message across the hop.
  HttpReply missing = gateway.get(path);
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.json().at("className"), "not-found");
  EXPECT_EQ(missing.json().at("message").as_string(), "No record found for id '" + to_json_text(id) + "'");
  HttpReply invalid = gateway.post("/messages", R"({"text":"x","n":"not a number"})");
  EXPECT_EQ(invalid.status, 400u) << invalid.body;
  EXPECT_EQ(invalid.json().at("name"), "BadRequest");
}

TEST(MeshCluster, ThreeNodesOverUdpServeEveryMethodAndEventThroughTheGateway) {
  TempDir dir;
  const std::uint16_t multicast = random_port();
  const std::string mesh = discovery_block("udp", multicast);
  PlumeNode owner("owner", dir, node_config("owner", messages_on(dir.path() / "owner.db"), mesh));
  PlumeNode users(
      "users", dir,
      node_config("users", "services:\n  users: { schema: { email: { type: string } } }\n", mesh));
  PlumeNode gateway("gateway", dir, node_config("gateway", "", mesh));

  ASSERT_TRUE(eventually([&] { return gateway.get("/messages").status == 200; }, 10s)) << gateway.log();
  ASSERT_TRUE(eventually([&] { return gateway.get("/users").status == 200; }, 10s)) << gateway.log();
  // Ready once discovery runs and the first round of peers was tried.
  EXPECT_TRUE(eventually([&] { return gateway.get("/readyz").status == 200; }, 5s))
      << gateway.get("/readyz").body;

  EventWatcher watcher(gateway.port());
  exercise_every_method(gateway, owner);

  // A record created on the owner itself reaches the gateway's real-time client once.
  HttpReply direct = owner.post("/messages", R"({"text":"from the owner","n":7})");
  ASSERT_EQ(direct.status, 201u);
  const auto created = watcher.events("messages created", 2);
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0].at("text"), "through the mesh");
  EXPECT_EQ(created[1].at("text"), "from the owner");
  // The envelope never leaks into the record.
  EXPECT_FALSE(created[1].as_object().contains("path"));
  EXPECT_EQ(watcher.events("messages patched", 1).size(), 1u);
  EXPECT_EQ(watcher.events("messages removed", 1).size(), 1u);
  // No duplicates arrive later.
  EXPECT_EQ(watcher.events("messages created", 3, 1s).size(), 2u);

  HttpReply user = gateway.post("/users", R"({"email":"ann@example.com"})");
  EXPECT_EQ(user.status, 201u) << user.body;
  EXPECT_TRUE(lists_node_up(gateway, "owner"));
  EXPECT_TRUE(lists_node_up(gateway, "users"));
}

TEST(MeshCluster, NodesFindEachOtherThroughRedis) {
  RedisServer redis;
  TempDir dir;
  const std::string mesh = discovery_block(redis.url(), 0);
  PlumeNode owner("owner", dir, node_config("owner", messages_on(dir.path() / "owner.db"), mesh));
  PlumeNode gateway("gateway", dir, node_config("gateway", "", mesh));
  ASSERT_TRUE(eventually([&] { return gateway.get("/messages").status == 200; }, 10s)) << gateway.log();
  exercise_every_method(gateway, owner);

  // A node that stops says goodbye: its services leave the gateway at once.
  owner.terminate();
  EXPECT_TRUE(eventually([&] { return gateway.get("/messages").status == 404; }, 5s)) << gateway.log();
}

TEST(MeshCluster, KilledReplicaUnderLoadFailsNoGetAndIsDetectedQuickly) {
  TempDir dir;
  const std::uint16_t multicast = random_port();
  const std::string mesh = discovery_block("udp", multicast);
  // Two replicas of one service over one database file.
  const std::string services = messages_on(dir.path() / "shared.db");
  PlumeNode first("replica-1", dir, node_config("replica-1", services, mesh));
  PlumeNode second("replica-2", dir, node_config("replica-2", services, mesh));
  PlumeNode gateway("gateway", dir, node_config("gateway", "", mesh));
  ASSERT_TRUE(eventually(
      [&] { return lists_node_up(gateway, "replica-1") && lists_node_up(gateway, "replica-2"); }, 10s))
      << gateway.log();
  ASSERT_TRUE(eventually([&] { return gateway.get("/messages").status == 200; }, 10s));
  HttpReply created = first.post("/messages", R"({"text":"steady","n":1})");
  ASSERT_EQ(created.status, 201u);
  const std::string path = "/messages/" + to_json_text(created.json().at("id"));

  std::atomic<bool> running{true};
  std::atomic<int> succeeded{0};
  std::atomic<int> failed{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      while (running) {
        HttpReply reply = gateway.get(path);
        if (reply.status == 200) {
          ++succeeded;
        } else {
          ++failed;
          std::lock_guard lock(failures_mutex);
          failures.push_back(std::to_string(reply.status) + " " + reply.body);
        }
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return succeeded > 200; }, 20s));
  const auto killed_at = std::chrono::steady_clock::now();
  first.kill9();
  const bool detected = eventually([&] { return !lists_node_up(gateway, "replica-1"); }, 10s, 20ms);
  const auto detection = std::chrono::steady_clock::now() - killed_at;
  const int before = succeeded;
  ASSERT_TRUE(eventually([&] { return succeeded > before + 200; }, 20s));

  // The node comes back as a new instance and takes traffic again.
  first.start();
  EXPECT_TRUE(eventually([&] { return lists_node_up(gateway, "replica-1"); }, 10s)) << gateway.log();
  const int rejoined = succeeded;
  ASSERT_TRUE(eventually([&] { return succeeded > rejoined + 200; }, 20s));
  running = false;
  for (auto& client : clients) client.join();

  EXPECT_TRUE(detected);
  EXPECT_LT(detection, 3s) << "detected after "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(detection).count()
                           << " ms";
  EXPECT_EQ(failed, 0) << (failures.empty() ? "" : failures.front());
  RecordProperty("detection_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(detection).count()));
}

TEST(MeshCluster, NodeWithTheWrongSecretIsKeptOut) {
  TempDir dir;
  const std::uint16_t multicast = random_port();
  PlumeNode intruder("intruder", dir,
                     node_config("intruder", "services:\n  secrets: {}\n",
                                 discovery_block("udp", multicast, "not-the-cluster-secret-000000000")));
  PlumeNode owner(
      "owner", dir,
      node_config("owner", messages_on(dir.path() / "owner.db"), discovery_block("udp", multicast)));
  PlumeNode gateway("gateway", dir, node_config("gateway", "", discovery_block("udp", multicast)));
  ASSERT_TRUE(eventually([&] { return gateway.get("/messages").status == 200; }, 10s)) << gateway.log();
  // Several announcement rounds later the intruder's service is still unknown.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(gateway.get("/secrets").status, 404u);
  EXPECT_FALSE(lists_node_up(gateway, "intruder"));
  EXPECT_EQ(intruder.get("/messages").status, 404u);
}

TEST(ReplicaSync, ReplicasShareEventsThroughRedisAcrossARestart) {
  RedisServer redis(RedisServerOptions{.append_only = true});
  TempDir dir;
  const std::string sync = "sync: { redis: " + redis.url() + " }\n";
  const std::string services = messages_on(dir.path() / "shared.db");
  PlumeNode first("replica-1", dir, node_config("replica-1", services + sync, ""));
  PlumeNode second("replica-2", dir, node_config("replica-2", services + sync, ""));
  ASSERT_TRUE(eventually([&] {
    return first.get("/readyz").status == 200 && second.get("/readyz").status == 200;
  })) << first.log()
      << second.log();

  EventWatcher on_first(first.port());
  EventWatcher on_second(second.port());
  ASSERT_EQ(first.post("/messages", R"({"text":"one","n":1})").status, 201u);
  auto seen = on_second.events("messages created", 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].at("text"), "one");

  redis.stop();
  // Written while Redis is down: the call succeeds, the event follows once Redis is back.
  ASSERT_EQ(first.post("/messages", R"({"text":"two","n":2})").status, 201u);
  redis.start();
  ASSERT_EQ(first.post("/messages", R"({"text":"three","n":3})").status, 201u);
  seen = on_second.events("messages created", 3, 20s);
  ASSERT_EQ(seen.size(), 3u) << second.log();
  EXPECT_EQ(seen[1].at("text"), "two");
  EXPECT_EQ(seen[2].at("text"), "three");
  // The origin delivered its own clients directly, once each.
  EXPECT_EQ(on_first.events("messages created", 4, 1s).size(), 3u);
  EXPECT_EQ(on_second.events("messages created", 4, 1s).size(), 3u);
}

}  // namespace
}  // namespace plume::testing
