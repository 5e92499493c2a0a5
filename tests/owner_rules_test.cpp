// Owner rules over real sockets, on a node assembled from configuration as `plume serve` does:
// `owner: self` keeps a user to their own record in `users`, `owner: {field: userId}` keeps them
// to their own messages (create stamps the author), a role exempts, and an unauthenticated call
// is 401. The same configuration runs on the memory store, SQLite and PostgreSQL, over REST and
// over Socket.io.
#include "config/test_files.hpp"
#include "core/run_sync_for_test.hpp"
#include "socketio_client.hpp"
#include "test_server.hpp"
#include "testing/postgres_server.hpp"

#include <plume/config/node.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace plume {
namespace {

using config::testing::environment;
using config::testing::TempDir;
using plume::testing::HttpClient;
using plume::testing::HttpReply;
using plume::testing::WsClient;
namespace http = boost::beast::http;

constexpr const char* kSecret = "an-owner-rules-test-secret-of-32-bytes-or-more";

enum class Store { Memory, Sqlite, Postgres };

std::string store_name(const ::testing::TestParamInfo<Store>& info) {
  switch (info.param) {
    case Store::Memory:
      return "Memory";
    case Store::Sqlite:
      return "Sqlite";
    case Store::Postgres:
      return "Postgres";
  }
  return "Unknown";
}

// The demo's shape: sign-up open, every user kept to their own record; messages stamped with
// their author and kept to them; admins exempt.
std::string node_config(const std::string& database_url, const std::string& extra_services = {}) {
  const std::string database = database_url.empty() ? "memory" : "main";
  std::string yaml = "name: owners\nhost: 127.0.0.1\nport: 0\nthreads: 2\n";
  if (!database_url.empty()) yaml += "databases:\n  main: " + database_url + "\n";
  yaml += std::string("authentication:\n  secret: ") + kSecret +
          "\n  service: users\n  strategies: [local, jwt]\n  local: { hashSize: 4 }\n"
          "services:\n"
          "  users:\n"
          "    database: " +
          database +
          "\n"
          "    auth: { strategy: jwt, except: [create] }\n"
          "    owner: { field: self, exempt: [admin] }\n"
          "    schema:\n"
          "      email: { type: string, format: email, unique: true, required: true }\n"
          "      password: { type: string, secret: true, required: true }\n"
          "      roles: { type: array }\n"
          "  messages:\n"
          "    database: " +
          database +
          "\n"
          "    owner: { field: userId, exempt: [admin], stamp: { author: email } }\n"
          "    schema:\n"
          "      text: { type: string, required: true, maxLength: 200 }\n"
          "      createdAt: { type: string, format: date-time, default: now }\n"
          "    multi: [patch, remove]\n" +
          extra_services;
  return yaml;
}

class OwnerNode {
 public:
  explicit OwnerNode(Store store, const std::string& extra_services = {}) {
    std::string url;
    if (store == Store::Sqlite) url = "sqlite://" + (dir_.path() / "owners.db").string();
    if (store == Store::Postgres) url = plume::testing::PostgresServer::shared().create_database();
    const auto file = dir_.write("node.yaml", node_config(url, extra_services));
    node_ = std::make_unique<config::Node>(config::load_config(file, environment({})));
    port_ = node_->start();
  }
  ~OwnerNode() {
    node_->stop();
    node_->server().wait();
  }
  std::uint16_t port() const { return port_; }
  App& app() { return node_->app(); }

 private:
  TempDir dir_;
  std::unique_ptr<config::Node> node_;
  std::uint16_t port_ = 0;
};

struct Person {
  std::string email;
  std::string password;
  Json id;
  std::string token;

  std::pair<std::string, std::string> bearer() const { return {"Authorization", "Bearer " + token}; }
};

Person sign_up(HttpClient& client, const std::string& name) {
  Person person{name + "@example.com", "pw-" + name, nullptr, {}};
  const auto created = client.post(
      "/users", to_json_text(Json(JsonObject{{"email", person.email}, {"password", person.password}})));
  EXPECT_EQ(created.status, 201u) << created.body;
  person.id = created.json().at("id");
  const auto login = client.post(
      "/authentication",
      to_json_text(
          Json(JsonObject{{"strategy", "local"}, {"email", person.email}, {"password", person.password}})));
  EXPECT_EQ(login.status, 201u) << login.body;
  person.token = std::string(login.json().at("accessToken").as_string());
  return person;
}

std::string id_text(const Json& id) {
  return id.is_string() ? std::string(id.as_string()) : to_json_text(id);
}

Json not_found_json(const Json& id) {
  return JsonObject{{"name", "NotFound"},
                    {"message", "No record found for id '" + id_text(id) + "'"},
                    {"code", 404},
                    {"className", "not-found"}};
}

JsonArray records(const HttpReply& reply) {
  const Json body = reply.json();
  if (body.is_array()) return body.as_array();
  return body.at("data").as_array();
}

class OwnerRules : public ::testing::TestWithParam<Store> {};

TEST_P(OwnerRules, AUserCanNeitherReadNorChangeAnotherUsersRecord) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  const Person alice = sign_up(client, "alice");
  const Person bob = sign_up(client, "bob");
  const std::string bob_path = "/users/" + id_text(bob.id);

  // The account takeover: alice sets bob's password.
  const auto takeover =
      client.request(http::verb::patch, bob_path, R"({"password":"owned"})", {alice.bearer()});
  EXPECT_EQ(takeover.status, 404u) << takeover.body;
  EXPECT_EQ(takeover.json(), not_found_json(bob.id));
  const auto read = client.get(bob_path, {alice.bearer()});
  EXPECT_EQ(read.status, 404u) << read.body;
  const auto replaced = client.request(http::verb::put, bob_path,
                                       R"({"email":"bob@example.com","password":"owned"})", {alice.bearer()});
  EXPECT_EQ(replaced.status, 404u) << replaced.body;
  const auto removed = client.request(http::verb::delete_, bob_path, {}, {alice.bearer()});
  EXPECT_EQ(removed.status, 404u) << removed.body;

  // Listing users shows only oneself: no other email leaks.
  const auto listed = client.get("/users", {alice.bearer()});
  ASSERT_EQ(listed.status, 200u) << listed.body;
  ASSERT_EQ(records(listed).size(), 1u) << listed.body;
  EXPECT_EQ(records(listed)[0].at("email"), Json(alice.email));

  // Bob's password is unchanged; alice still changes her own.
  const auto bob_login = client.post("/authentication", R"({"strategy":"local","email":"bob@example.com",)"
                                                        R"("password":"pw-bob"})");
  EXPECT_EQ(bob_login.status, 201u) << bob_login.body;
  const auto own = client.request(http::verb::patch, "/users/" + id_text(alice.id),
                                  R"({"password":"new-pw"})", {alice.bearer()});
  EXPECT_EQ(own.status, 200u) << own.body;
  EXPECT_EQ(client.get("/users/" + id_text(alice.id), {alice.bearer()}).status, 200u);
}

TEST_P(OwnerRules, MessagesCarryTheirAuthorAndOthersMessagesAreNotFound) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  const Person alice = sign_up(client, "alice");
  const Person bob = sign_up(client, "bob");

  // A client-sent userId (and author) is overwritten with the caller's.
  const auto created = client.post(
      "/messages",
      to_json_text(Json(JsonObject{{"text", "from alice"}, {"userId", bob.id}, {"author", "bob"}})),
      {alice.bearer()});
  ASSERT_EQ(created.status, 201u) << created.body;
  const Json message = created.json();
  EXPECT_EQ(message.at("userId"), alice.id);
  EXPECT_EQ(message.at("author"), Json(alice.email));
  const std::string path = "/messages/" + id_text(message.at("id"));
  ASSERT_EQ(client.post("/messages", R"({"text":"from bob"})", {bob.bearer()}).status, 201u);

  // Bob sees only his own, and alice's answers 404 exactly as a missing record.
  const auto bobs = client.get("/messages", {bob.bearer()});
  ASSERT_EQ(bobs.status, 200u) << bobs.body;
  ASSERT_EQ(records(bobs).size(), 1u) << bobs.body;
  EXPECT_EQ(records(bobs)[0].at("text"), Json("from bob"));
  // Asking for alice's by userId still answers with the caller's own.
  const auto probe = client.get("/messages?userId=" + id_text(alice.id), {bob.bearer()});
  ASSERT_EQ(records(probe).size(), 1u) << probe.body;
  EXPECT_EQ(records(probe)[0].at("userId"), bob.id);
  const auto read = client.get(path, {bob.bearer()});
  EXPECT_EQ(read.status, 404u) << read.body;
  EXPECT_EQ(read.json(), not_found_json(message.at("id")));
  EXPECT_EQ(client.request(http::verb::patch, path, R"({"text":"edited by bob"})", {bob.bearer()}).status,
            404u);
  EXPECT_EQ(client.request(http::verb::put, path, R"({"text":"replaced by bob"})", {bob.bearer()}).status,
            404u);
  EXPECT_EQ(client.request(http::verb::delete_, path, {}, {bob.bearer()}).status, 404u);
  // Multi patch and remove reach only the caller's own records.
  const auto patched =
      client.request(http::verb::patch, "/messages", R"({"text":"all mine"})", {bob.bearer()});
  ASSERT_EQ(patched.status, 200u) << patched.body;
  EXPECT_EQ(patched.json().as_array().size(), 1u) << patched.body;

  // Alice cannot give her message away, by patch or by update.
  const auto moved = client.request(http::verb::patch, path,
                                    to_json_text(Json(JsonObject{{"userId", bob.id}})), {alice.bearer()});
  ASSERT_EQ(moved.status, 200u) << moved.body;
  EXPECT_EQ(moved.json().at("userId"), alice.id);
  const auto replaced = client.request(
      http::verb::put, path, to_json_text(Json(JsonObject{{"text", "replaced"}, {"userId", bob.id}})),
      {alice.bearer()});
  ASSERT_EQ(replaced.status, 200u) << replaced.body;
  EXPECT_EQ(replaced.json().at("userId"), alice.id);
  const auto alices = client.get("/messages", {alice.bearer()});
  ASSERT_EQ(records(alices).size(), 1u) << alices.body;
  EXPECT_EQ(records(alices)[0].at("text"), Json("replaced"));

  const auto removed = client.request(http::verb::delete_, "/messages", {}, {bob.bearer()});
  ASSERT_EQ(removed.status, 200u) << removed.body;
  EXPECT_EQ(removed.json().as_array().size(), 1u) << removed.body;
  EXPECT_EQ(client.get(path, {alice.bearer()}).status, 200u);
}

TEST_P(OwnerRules, OwnerRulesImplyAuthentication) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  // messages has no `auth` key: its owner rule alone requires a logged-in caller.
  const auto listed = client.get("/messages");
  EXPECT_EQ(listed.status, 401u) << listed.body;
  EXPECT_EQ(listed.json(),
            parse_json(R"({"name":"NotAuthenticated","message":"Not authenticated","code":401,)"
                       R"("className":"not-authenticated"})"));
  EXPECT_EQ(client.post("/messages", R"({"text":"anonymous"})").status, 401u);
  EXPECT_EQ(client.get("/users").status, 401u);
  // Sign-up stays open, as auth.except says.
  EXPECT_EQ(client.post("/users", R"({"email":"new@example.com","password":"pw"})").status, 201u);
}

TEST_P(OwnerRules, AnExemptRoleSeesAndChangesEveryRecord) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  const Person alice = sign_up(client, "alice");
  Person admin = sign_up(client, "admin");
  // Roles are given internally (a user cannot give one to themselves).
  plume::testing::run_sync(
      node.app().patch("users", Id::from_json(admin.id), Json(JsonObject{{"roles", JsonArray{"admin"}}})));
  ASSERT_EQ(client.post("/messages", R"({"text":"from alice"})", {alice.bearer()}).status, 201u);

  const auto all = client.get("/messages", {admin.bearer()});
  ASSERT_EQ(all.status, 200u) << all.body;
  EXPECT_EQ(records(all).size(), 1u) << all.body;
  const auto users = client.get("/users", {admin.bearer()});
  EXPECT_EQ(records(users).size(), 2u) << users.body;
  EXPECT_EQ(client.get("/users/" + id_text(alice.id), {admin.bearer()}).status, 200u);
  const auto edited = client.request(http::verb::patch, "/messages/" + id_text(records(all)[0].at("id")),
                                     R"({"text":"moderated"})", {admin.bearer()});
  ASSERT_EQ(edited.status, 200u) << edited.body;
  EXPECT_EQ(edited.json().at("userId"), alice.id);  // the author stays
}

TEST_P(OwnerRules, AUserCannotGiveThemselvesARole) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  const auto signed_up =
      client.post("/users", R"({"email":"eve@example.com","password":"pw","roles":["admin"]})");
  EXPECT_EQ(signed_up.status, 403u) << signed_up.body;
  EXPECT_EQ(signed_up.json().at("name"), Json("Forbidden"));
  const Person mallory = sign_up(client, "mallory");
  const auto patched = client.request(http::verb::patch, "/users/" + id_text(mallory.id),
                                      R"({"roles":["admin"]})", {mallory.bearer()});
  EXPECT_EQ(patched.status, 403u) << patched.body;
  EXPECT_EQ(client.get("/messages", {mallory.bearer()}).status, 200u);
}

// Socket.io: the same rules for a connection logged in at the handshake.
JsonArray ack(WsClient& ws, const std::string& request, const std::string& id) {
  ws.send("42" + id + request);
  const std::string frame =
      ws.read_until([&](const std::string& f) { return f.rfind("43" + id + "[", 0) == 0; });
  return boost::json::parse(frame.substr(2 + id.size())).as_array();
}

TEST_P(OwnerRules, SocketCallsSeeOnlyTheirOwnRecords) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  const Person alice = sign_up(client, "alice");
  const Person bob = sign_up(client, "bob");
  const auto alices = client.post("/messages", R"({"text":"from alice"})", {alice.bearer()});
  ASSERT_EQ(alices.status, 201u) << alices.body;
  const Json alice_message = alices.json().at("id");

  WsClient ws(node.port(), "/socket.io/?EIO=4&transport=websocket", {bob.bearer()});
  ws.read();  // open
  ws.send("40");
  ws.read_until([](const std::string& f) { return f.rfind("40", 0) == 0; });

  const JsonArray created =
      ack(ws,
          to_json_text(
              Json(JsonArray{"create", "messages", JsonObject{{"text", "from bob"}, {"userId", alice.id}}})),
          "1");
  ASSERT_TRUE(created.at(0).is_null()) << to_json_text(Json(created));
  EXPECT_EQ(created.at(1).at("userId"), bob.id);
  EXPECT_EQ(created.at(1).at("author"), Json(bob.email));

  const JsonArray found = ack(ws, R"(["find","messages",{}])", "2");
  ASSERT_TRUE(found.at(0).is_null()) << to_json_text(Json(found));
  const Json& page = found.at(1);
  const JsonArray& list = page.is_array() ? page.as_array() : page.at("data").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("text"), Json("from bob"));

  const JsonArray got = ack(ws, to_json_text(Json(JsonArray{"get", "messages", alice_message})), "3");
  EXPECT_EQ(got.at(0), not_found_json(alice_message));
  const JsonArray patched = ack(
      ws, to_json_text(Json(JsonArray{"patch", "users", alice.id, JsonObject{{"password", "owned"}}})), "4");
  EXPECT_EQ(patched.at(0), not_found_json(alice.id));
  const JsonArray users = ack(ws, R"(["find","users",{}])", "5");
  const Json& users_page = users.at(1);
  const JsonArray& user_list =
      users_page.is_array() ? users_page.as_array() : users_page.at("data").as_array();
  ASSERT_EQ(user_list.size(), 1u);
  EXPECT_EQ(user_list[0].at("email"), Json(bob.email));
}

// A Socket.io connection logged in at the handshake with the person's token.
struct LoggedInSocket : WsClient {
  LoggedInSocket(std::uint16_t port, const Person& person)
      : WsClient(port, "/socket.io/?EIO=4&transport=websocket", {person.bearer()}) {
    read();  // open
    send("40");
    read_until([](const std::string& f) { return f.rfind("40", 0) == 0; });
  }
};

TEST_P(OwnerRules, EventsOfRecordsOthersCannotReadReachOnlyTheirOwner) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  const Person alice = sign_up(client, "alice");
  const Person bob = sign_up(client, "bob");
  LoggedInSocket alices_socket(node.port(), alice);
  LoggedInSocket bobs_socket(node.port(), bob);

  ASSERT_EQ(client.post("/messages", R"({"text":"secret of alice"})", {alice.bearer()}).status, 201u);
  alices_socket.read_until(
      [](const std::string& f) { return f.find("secret of alice") != std::string::npos; });
  ASSERT_EQ(client.post("/users", R"({"email":"carol@example.com","password":"pw"})").status, 201u);
  ASSERT_EQ(client.post("/messages", R"({"text":"note of bob"})", {bob.bearer()}).status, 201u);
  // Bob's own event comes; nothing of alice's, nor carol's sign-up, came before it.
  std::vector<std::string> seen;
  bobs_socket.read_until([&](const std::string& f) {
    seen.push_back(f);
    return f.find("note of bob") != std::string::npos;
  });
  while (auto frame = bobs_socket.read(std::chrono::milliseconds(200))) seen.push_back(*frame);
  for (const std::string& frame : seen) {
    EXPECT_EQ(frame.find("secret of alice"), std::string::npos) << frame;
    EXPECT_EQ(frame.find("carol@example.com"), std::string::npos) << frame;
  }
}

// Strict schemas: a field outside the schema is refused as a generated Feathers app's schema
// validation refuses it, unless the service opts into keeping extra fields.
Json additional_property_error(std::string_view field) {
  return JsonObject{{"name", "BadRequest"},
                    {"message", "validation failed"},
                    {"code", 400},
                    {"className", "bad-request"},
                    {"data", JsonArray{JsonObject{{"instancePath", ""},
                                                  {"schemaPath", "#/additionalProperties"},
                                                  {"keyword", "additionalProperties"},
                                                  {"params", JsonObject{{"additionalProperty", field}}},
                                                  {"message", "must NOT have additional properties"}}}}};
}

TEST_P(OwnerRules, FieldsOutsideTheSchemaAreRefusedOnEveryWrite) {
  OwnerNode node(GetParam());
  HttpClient client(node.port());
  const auto signed_up =
      client.post("/users", R"({"email":"eve@example.com","password":"pw","isAdmin":true})");
  EXPECT_EQ(signed_up.status, 400u) << signed_up.body;
  EXPECT_EQ(signed_up.json(), additional_property_error("isAdmin"));

  const Person alice = sign_up(client, "alice");
  const auto created = client.post("/messages", R"({"text":"hi","role":"admin"})", {alice.bearer()});
  EXPECT_EQ(created.status, 400u) << created.body;
  EXPECT_EQ(created.json(), additional_property_error("role"));
  const auto ok = client.post("/messages", R"({"text":"hi"})", {alice.bearer()});
  ASSERT_EQ(ok.status, 201u) << ok.body;
  const std::string path = "/messages/" + id_text(ok.json().at("id"));
  const auto patched =
      client.request(http::verb::patch, path, R"({"__proto__":{"isAdmin":true}})", {alice.bearer()});
  EXPECT_EQ(patched.status, 400u) << patched.body;
  EXPECT_EQ(patched.json(), additional_property_error("__proto__"));
  const auto replaced =
      client.request(http::verb::put, path, R"({"text":"again","isAdmin":true})", {alice.bearer()});
  EXPECT_EQ(replaced.status, 400u) << replaced.body;
  EXPECT_EQ(replaced.json(), additional_property_error("isAdmin"));
  // Nothing was stored or sent.
  const auto stored = client.get(path, {alice.bearer()});
  EXPECT_EQ(stored.json().at("text"), Json("hi"));
  EXPECT_FALSE(stored.json().as_object().contains("isAdmin")) << stored.body;
}

TEST_P(OwnerRules, AServiceThatAllowsAdditionalPropertiesKeepsThem) {
  const bool memory = GetParam() == Store::Memory;
  OwnerNode node(GetParam(), std::string("  notes:\n    database: ") + (memory ? "memory" : "main") +
                                 "\n    additionalProperties: true\n"
                                 "    schema:\n      title: { type: string }\n");
  HttpClient client(node.port());
  const auto created = client.post("/notes", R"({"title":"t","color":"red","tags":{"a":1}})");
  ASSERT_EQ(created.status, 201u) << created.body;
  const auto stored = client.get("/notes/" + id_text(created.json().at("id")));
  EXPECT_EQ(stored.json().at("color"), Json("red")) << stored.body;
  EXPECT_EQ(stored.json().at("tags"), parse_json(R"({"a":1})")) << stored.body;
}

// Through the mesh: a node without the services proxies them to the node that owns them, which
// authenticates the forwarded token again and applies its owner rules to the forwarded call.
class ConfiguredNode {
 public:
  explicit ConfiguredNode(const std::string& yaml) {
    const auto file = dir_.write("node.yaml", yaml);
    node_ = std::make_unique<config::Node>(config::load_config(file, environment({})));
    port_ = node_->start();
  }
  ~ConfiguredNode() {
    node_->stop();
    node_->server().wait();
  }
  std::uint16_t port() const { return port_; }

 private:
  TempDir dir_;
  std::unique_ptr<config::Node> node_;
  std::uint16_t port_ = 0;
};

std::string mesh_section(const std::string& id, std::uint16_t peer_port) {
  return "mesh:\n  secret: owner-rules-mesh-secret\n  id: " + id +
         "\n  discovery: static\n  peers: [ws://127.0.0.1:" + std::to_string(peer_port) +
         "]\n  announceInterval: 100ms\n  heartbeatInterval: 100ms\n  heartbeatTimeout: 1s\n";
}

TEST(OwnerRulesMesh, ForwardedCallsAreRestrictedOnTheOwningNode) {
  // The owner dials nobody (port 1 refuses); the gateway dials the owner.
  ConfiguredNode owner(node_config("") + mesh_section("owner", 1));
  HttpClient direct(owner.port());
  const Person alice = sign_up(direct, "alice");
  const Person bob = sign_up(direct, "bob");
  const auto alices = direct.post("/messages", R"({"text":"from alice"})", {alice.bearer()});
  ASSERT_EQ(alices.status, 201u) << alices.body;
  const Json alice_message = alices.json().at("id");
  ASSERT_EQ(direct.post("/messages", R"({"text":"from bob"})", {bob.bearer()}).status, 201u);

  ConfiguredNode gateway("name: gateway\nhost: 127.0.0.1\nport: 0\nthreads: 2\n" +
                         mesh_section("gateway", owner.port()));
  HttpClient client(gateway.port());
  HttpReply listed;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    listed = client.get("/messages", {bob.bearer()});
    if (listed.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(listed.status, 200u) << listed.body;
  ASSERT_EQ(records(listed).size(), 1u) << listed.body;
  EXPECT_EQ(records(listed)[0].at("text"), Json("from bob"));

  const auto read = client.get("/messages/" + id_text(alice_message), {bob.bearer()});
  EXPECT_EQ(read.status, 404u) << read.body;
  EXPECT_EQ(read.json(), not_found_json(alice_message));
  const auto takeover = client.request(http::verb::patch, "/users/" + id_text(alice.id),
                                       R"({"password":"owned"})", {bob.bearer()});
  EXPECT_EQ(takeover.status, 404u) << takeover.body;
  EXPECT_EQ(client.get("/messages").status, 401u);
}

INSTANTIATE_TEST_SUITE_P(Stores, OwnerRules, ::testing::Values(Store::Memory, Store::Sqlite, Store::Postgres),
                         store_name);

}  // namespace
}  // namespace plume
