#include <plume/config/node.hpp>

#include "config/test_files.hpp"
#include "core/channel_test_connection.hpp"
#include "core/run_sync_for_test.hpp"

#include <plume/core/error.hpp>
#include <plume/core/schema.hpp>

#include <gtest/gtest.h>

namespace plume::config {
namespace {

using plume::testing::run_sync;
using testing::environment;
using testing::TempDir;

TEST(NodeAssembly, ServicesAreRegisteredWithTheirMethodsAndSchema) {
  TempDir dir;
  const auto file =
      dir.write("node.yaml", "databases:\n  main: sqlite://" + (dir.path() / "db" / "a.db").string() +
                                 "\nservices:\n"
                                 "  messages:\n    database: main\n    methods: [find, get]\n"
                                 "    schema: { text: { type: string } }\n"
                                 "  notes: {}\n");
  Node node(load_config(file, environment({})));
  ServiceEntry* messages = node.app().find_service("messages");
  ASSERT_NE(messages, nullptr);
  EXPECT_TRUE(messages->exposes("find"));
  EXPECT_FALSE(messages->exposes("create"));
  ASSERT_NE(messages->schema(), nullptr);
  EXPECT_NE(messages->schema()->field("text"), nullptr);
  EXPECT_NE(node.app().find_service("notes"), nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "db" / "a.db"));  // parent directory created
  EXPECT_TRUE(node.app().settings().at("services").is_object());
}

TEST(NodeAssembly, PostgresDatabaseStartsWhileTheDatabaseIsUnreachable) {
  TempDir dir;
  const auto file = dir.write("node.yaml",
                              "name: x\ndatabases:\n  main: postgres://u:pw@127.0.0.1:1/app\n"
                              "services:\n  items: { database: main }\n");
  Node node(load_config(file, environment({})));
  EXPECT_NE(node.app().find_service("items"), nullptr);
}

TEST(NodeAssembly, UnparsablePostgresUrlFailsNamingTheKeyAndFile) {
  TempDir dir;
  const auto file =
      dir.write("node.yaml", "name: x\ndatabases:\n  main: postgres://u:pw@db:5432/app?sslmode\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "databases.main");
    EXPECT_EQ(error.origin(), file.string() + ":3");
    EXPECT_NE(error.problem().find("invalid PostgreSQL URL"), std::string::npos) << error.problem();
  }
}

TEST(NodeAssembly, MeshWithoutASecretRefusesToStart) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: x\nmesh: { discovery: udp }\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "mesh.secret");
    EXPECT_NE(error.problem().find("cluster secret"), std::string::npos) << error.problem();
  }
}

TEST(NodeAssembly, StaticDiscoveryWithoutPeersRefusesToStart) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: x\nmesh: { secret: s, discovery: static }\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "mesh.peers");
  }
}

TEST(NodeAssembly, MeshCertificateThatDoesNotLoadRefusesToStart) {
  TempDir dir;
  const auto file = dir.write(
      "node.yaml",
      "name: x\nmesh: { secret: s, tls: { cert: /nonexistent/node.pem, key: k.pem, ca: ca.pem } }\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "mesh.tls");
    EXPECT_NE(error.problem().find("/nonexistent/node.pem"), std::string::npos) << error.problem();
  }
}

TEST(NodeAssembly, WssPeerWithMeshTlsOffRefusesToStart) {
  TempDir dir;
  const auto file = dir.write(
      "node.yaml", "name: x\nmesh: { secret: s, tls: off, discovery: static, peers: [wss://a:1] }\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "mesh.peers[0]");
  }
}

TEST(NodeAssembly, ServiceRequiringAuthRefusesToStartRatherThanServeOpen) {
  TempDir dir;
  // auth: jwt without an authentication section to check tokens with.
  const auto file = dir.write("node.yaml", "services:\n  messages:\n    auth: jwt\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "services.messages.auth");
    EXPECT_EQ(error.origin(), file.string() + ":3");
    EXPECT_NE(error.problem().find("authentication section with a secret"), std::string::npos)
        << error.what();
  }
}

TEST(NodeAssembly, EmptyAuthenticationSecretRefusesToStart) {
  TempDir dir;
  const auto file = dir.write("node.yaml",
                              "authentication:\n  secret: ${PLUME_AUTH_SECRET:-}\n"
                              "services:\n  users: {}\n  messages:\n    auth: jwt\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_TRUE(error.key() == "services.messages.auth" || error.key() == "authentication.secret")
        << error.what();
  }
}

TEST(NodeAssembly, AuthenticationServiceMustExist) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "authentication:\n  secret: s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "authentication.service");
  }
}

TEST(NodeAssembly, OnlyHs256IsAccepted) {
  TempDir dir;
  const auto file = dir.write("node.yaml",
                              "authentication:\n  secret: x\n  jwtOptions: { algorithm: HS512 }\n"
                              "services:\n  users: {}\n");
  try {
    load_config(file, environment({}));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "authentication.jwtOptions.algorithm");
  }
}

TEST(NodeAssembly, AuthenticationSectionProtectsServicesAndHashesSecretFields) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
authentication:
  secret: ${PLUME_AUTH_SECRET}
  authStrategies: [jwt, local]
  jwtOptions: { expiresIn: 1h }
  local: { usernameField: email, passwordField: password, hashSize: 4 }
services:
  users:
    schema: { email: { type: string }, password: { type: string, secret: true } }
  messages:
    auth: jwt
)");
  Node node(load_config(file, environment({{"PLUME_AUTH_SECRET", "0123456789abcdef0123456789abcdef"}})));
  App& app = node.app();
  ASSERT_NE(auth::find_authentication(app), nullptr);
  EXPECT_EQ(auth::find_authentication(app)->options().jwt.expires_in, std::chrono::hours(1));

  Params rest;
  rest.provider = "rest";
  const Json created =
      run_sync(app.create("users", JsonObject{{"email", "a@b.c"}, {"password", "secret"}}, rest));
  const Json stored = run_sync(app.get("users", Id::from_json(created.at("id"))));
  EXPECT_EQ(std::string(stored.at("password").as_string()).substr(0, 7), "$2b$04$");

  const Json login = run_sync(app.create(
      "authentication", JsonObject{{"strategy", "local"}, {"email", "a@b.c"}, {"password", "secret"}}, rest));
  EXPECT_FALSE(login.at("user").as_object().contains("password"));

  try {
    run_sync(app.find("messages", rest));
    FAIL() << "expected NotAuthenticated";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotAuthenticated);
  }
  Params bearer = rest;
  bearer.authentication = JsonObject{{"strategy", "jwt"}, {"accessToken", login.at("accessToken")}};
  EXPECT_TRUE(run_sync(app.find("messages", bearer)).is_array());
}

TEST(NodeAssembly, AuthExceptLeavesTheNamedMethodsOpen) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
authentication:
  secret: 0123456789abcdef0123456789abcdef
services:
  users:
    schema: { email: { type: string }, password: { type: string, secret: true } }
    auth: { strategy: jwt, except: [create] }
)");
  Node node(load_config(file, environment({})));
  App& app = node.app();
  Params rest;
  rest.provider = "rest";
  // Sign-up is open; reading the users needs a token.
  EXPECT_NO_THROW(run_sync(app.create("users", JsonObject{{"email", "a@b.c"}, {"password", "pw"}}, rest)));
  try {
    run_sync(app.find("users", rest));
    FAIL() << "expected NotAuthenticated";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotAuthenticated);
  }
}

// Owner rules need a user to compare with, so they need the authentication section, and `self`
// only means something on the entity service.
ConfigError node_error(const std::string& yaml, std::filesystem::path* file_out = nullptr) {
  TempDir dir;
  const auto file = dir.write("node.yaml", yaml);
  if (file_out != nullptr) *file_out = file;
  try {
    Node node(load_config(file, environment({})));
  } catch (const ConfigError& error) {
    return error;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return ConfigError("", "", "");
}

constexpr const char* kUsersSection = R"(
authentication:
  secret: 0123456789abcdef0123456789abcdef
services:
  users:
    schema: { email: { type: string }, password: { type: string, secret: true } }
)";

TEST(NodeAssembly, OwnerRulesRefuseToStartWithoutAuthentication) {
  const ConfigError error = node_error("services:\n  messages:\n    owner: userId\n");
  EXPECT_EQ(error.key(), "services.messages.owner");
  EXPECT_NE(error.problem().find("authentication section with a secret"), std::string::npos) << error.what();
}

TEST(NodeAssembly, OwnerSelfIsOnlyForTheAuthenticationService) {
  const ConfigError error = node_error(std::string(kUsersSection) + "  notes:\n    owner: self\n");
  EXPECT_EQ(error.key(), "services.notes.owner");
  EXPECT_NE(error.problem().find("only on the authentication service (users)"), std::string::npos)
      << error.what();
}

TEST(NodeAssembly, OwnerStampOfASecretFieldIsRefused) {
  const ConfigError error = node_error(std::string(kUsersSection) +
                                       "  notes:\n    owner: { field: userId, stamp: { copy: password } }\n");
  EXPECT_EQ(error.key(), "services.notes.owner.stamp.copy");
  EXPECT_NE(error.problem().find("secret"), std::string::npos) << error.what();
}

TEST(NodeAssembly, OwnerKeyTakesAFieldSelfOrAMap) {
  const ConfigError error =
      node_error(std::string(kUsersSection) + "  notes:\n    owner: { field: userId, exempt: admin }\n");
  EXPECT_EQ(error.key(), "services.notes.owner.exempt");
  EXPECT_NE(error.problem().find("expected a list of"), std::string::npos) << error.what();
  const ConfigError unknown =
      node_error(std::string(kUsersSection) + "  notes:\n    owner: { field: userId, roles: [admin] }\n");
  EXPECT_EQ(unknown.key(), "services.notes.owner.roles");
}

TEST(NodeAssembly, OwnerFieldAndStampedFieldsJoinTheSchema) {
  TempDir dir;
  const auto file =
      dir.write("node.yaml", std::string(kUsersSection) +
                                 "  notes:\n    owner: { field: userId, stamp: { author: email } }\n"
                                 "    schema: { text: { type: string } }\n");
  Node node(load_config(file, environment({})));
  const Schema* schema = node.app().find_service("notes")->schema();
  ASSERT_NE(schema, nullptr);
  ASSERT_NE(schema->field("userId"), nullptr);
  EXPECT_EQ(schema->field("userId")->type, FieldType::Integer);
  ASSERT_NE(schema->field("author"), nullptr);
  EXPECT_EQ(schema->field("author")->type, FieldType::String);
}

TEST(NodeAssembly, RealtimePublishDefaultsToAuthenticatedWithAuthenticationElseEveryone) {
  TempDir dir;
  const auto with_auth = dir.write("auth.yaml", R"(
authentication: { secret: 0123456789abcdef0123456789abcdef }
services: { users: {}, messages: {} }
)");
  EXPECT_EQ(load_config(with_auth, environment({})).realtime_publish, "authenticated");
  const auto open = dir.write("open.yaml", "services: { messages: {} }\n");
  EXPECT_EQ(load_config(open, environment({})).realtime_publish, "everyone");
  const auto none = dir.write("none.yaml", "realtime: { publish: none }\nservices: { messages: {} }\n");
  EXPECT_EQ(load_config(none, environment({})).realtime_publish, "none");
  const auto bad = dir.write("bad.yaml", "realtime: { publish: some }\n");
  EXPECT_THROW(load_config(bad, environment({})), ConfigError);
}

TEST(NodeAssembly, RealtimePublishReachesTheConfiguredAudience) {
  TempDir dir;
  const auto everyone = dir.write("everyone.yaml", "services: { messages: {} }\n");
  Node open(load_config(everyone, environment({})));
  auto watcher = plume::testing::recording("c1");
  open.app().connect(watcher);
  run_sync(open.app().create("messages", JsonObject{{"text", "hi"}}));
  ASSERT_EQ(watcher->count(), 1u);
  EXPECT_EQ(watcher->sent()[0].event, "created");

  const auto authenticated = dir.write("auth.yaml", R"(
authentication: { secret: 0123456789abcdef0123456789abcdef }
services: { users: {}, messages: {} }
)");
  Node guarded(load_config(authenticated, environment({})));
  auto anonymous = plume::testing::recording("c2");
  auto member = plume::testing::recording("c3");
  guarded.app().connect(anonymous);
  guarded.app().connect(member);
  guarded.app().login(member, JsonObject{});
  run_sync(guarded.app().create("messages", JsonObject{{"text", "hi"}}));
  EXPECT_EQ(anonymous->count(), 0u);
  EXPECT_EQ(member->count(), 1u);
}

TEST(NodeAssembly, ServerOptionsFollowHostPortLimitsCorsAndLogging) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
host: 0.0.0.0
port: 4000
threads: 2
public: ./public
cors: { origins: http://app.example }
logging: { access: true }
limits: { bodySize: 64kb, headerTimeout: 2s, shutdownTimeout: 3s, maxConnections: 10 }
)");
  const transport::ServerOptions options = server_options(load_config(file, environment({})));
  EXPECT_EQ(options.host, "0.0.0.0");
  EXPECT_EQ(options.port, 4000);
  EXPECT_EQ(options.threads, 2u);
  EXPECT_EQ(options.public_dir, "./public");
  EXPECT_EQ(options.cors.origins, std::vector<std::string>{"http://app.example"});
  EXPECT_TRUE(options.access_log);
  EXPECT_EQ(options.body_limit, 64u * 1024);
  EXPECT_EQ(options.header_timeout, std::chrono::seconds(2));
  EXPECT_EQ(options.shutdown_grace, std::chrono::seconds(3));
  EXPECT_EQ(options.max_connections, 10u);
}

TEST(NodeAssembly, CorsFalseDisablesCors) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "cors: false\n");
  EXPECT_FALSE(server_options(load_config(file, environment({}))).cors.enabled);
}

TEST(NodeAssembly, StartsOnAFreePortAndStops) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "port: 0\nthreads: 1\nservices: { notes: {} }\n");
  Node node(load_config(file, environment({})));
  const std::uint16_t port = node.start();
  EXPECT_GT(port, 0);
  EXPECT_EQ(node.server().port(), port);
  node.stop();
}

TEST(NodeAssembly, AdminAndSessionLimitsReachTheServer) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
port: 0
realtime: { maxSessions: 500, maxUnconnected: 50 }
admin:
  port: 0
  token: let-me-in
)");
  const Config config = load_config(file, environment({}));
  const transport::ServerOptions options = server_options(config);
  EXPECT_EQ(options.socketio.max_sessions, 500u);
  EXPECT_EQ(options.socketio.max_unconnected, 50u);
  EXPECT_EQ(options.admin.port, 0);
  EXPECT_EQ(options.admin.host, "127.0.0.1");
  EXPECT_EQ(options.admin.token_sha256, "a3ee786b5707c27d42570785081ec17f5c7db9262a01366af362a1aa61a420b9");
  Node node(config);
  node.start();
  EXPECT_NE(node.server().admin_port(), 0u);
  node.stop();
}

}  // namespace
}  // namespace plume::config
