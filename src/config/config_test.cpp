#include <plume/config/config.hpp>

#include "config/config_tree.hpp"
#include "config/test_files.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace plume::config {
namespace {

using testing::environment;
using testing::TempDir;

// Runs `load` and returns the ConfigError it throws; fails the test when it does not throw.
template <class Load>
ConfigError error_of(Load load) {
  try {
    load();
  } catch (const ConfigError& error) {
    return error;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return ConfigError("", "", "");
}

TEST(ConfigLoad, DirectoryMergesDefaultThenPlumeEnvFileDeeply) {
  TempDir dir;
  dir.write("default.yaml", R"(
name: chat
port: 3030
paginate: { default: 10, max: 50 }
cors: { origins: [http://a.example, http://b.example] }
)");
  dir.write("production.yaml", R"(
port: 8080
paginate: { max: 100 }
cors: { origins: [http://c.example] }
)");
  const Config config = load_config(dir.path(), environment({{"PLUME_ENV", "production"}}));
  EXPECT_EQ(config.name, "chat");
  EXPECT_EQ(config.port, 8080);
  ASSERT_TRUE(config.paginate);
  EXPECT_EQ(config.paginate->default_limit, 10);  // kept from default.yaml: maps merge
  EXPECT_EQ(config.paginate->max_limit, 100);     // the later file wins
  EXPECT_EQ(config.cors_origins, std::vector<std::string>{"http://c.example"});  // arrays are replaced
  ASSERT_EQ(config.files.size(), 2u);
  EXPECT_EQ(config.files[1].filename(), "production.yaml");
}

TEST(ConfigLoad, WithoutPlumeEnvOnlyDefaultIsRead) {
  TempDir dir;
  dir.write("default.yml", "port: 3030\n");
  dir.write("production.yaml", "port: 8080\n");
  const Config config = load_config(dir.path(), environment({}));
  EXPECT_EQ(config.port, 3030);
  EXPECT_EQ(config.files.size(), 1u);
}

TEST(ConfigLoad, JsonFilesAreReadLikeYaml) {
  TempDir dir;
  dir.write("default.json", R"({"name": "api", "port": 4000, "logging": {"access": true}})");
  const Config config = load_config(dir.path(), environment({}));
  EXPECT_EQ(config.name, "api");
  EXPECT_EQ(config.port, 4000);
  EXPECT_TRUE(config.logging.access);
}

TEST(ConfigLoad, EnvironmentVariablesAreSubstitutedWithDefaults) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
name: ${APP_NAME}
host: ${APP_HOST:-0.0.0.0}
port: ${APP_PORT:-3030}
databases:
  main: sqlite://${DATA_DIR:-data}/chat.db
)");
  const Config config =
      load_config(file, environment({{"APP_NAME", "chat"}, {"DATA_DIR", "/var/lib/plume"}}));
  EXPECT_EQ(config.name, "chat");
  EXPECT_EQ(config.host, "0.0.0.0");
  EXPECT_EQ(config.port, 3030);  // a plain scalar is typed after substitution
  ASSERT_EQ(config.databases.size(), 1u);
  EXPECT_EQ(config.databases[0].kind, DatabaseKind::Sqlite);
  EXPECT_EQ(config.databases[0].path, "/var/lib/plume/chat.db");
}

TEST(ConfigLoad, QuotedScalarsStayStrings) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: \"3030\"\nport: '3030'\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "port");
  EXPECT_NE(error.problem().find("expected an integer from 0 to 65535, got \"3030\""), std::string::npos)
      << error.what();
}

TEST(ConfigLoad, MissingVariableWithoutDefaultNamesVariableKeyAndFile) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: chat\nauthentication:\n  secret: ${PLUME_AUTH_SECRET}\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "authentication.secret");
  EXPECT_EQ(error.origin(), file.string() + ":3");
  EXPECT_NE(error.problem().find("PLUME_AUTH_SECRET is not set"), std::string::npos) << error.what();
}

TEST(ConfigLoad, EmptyVariableTakesTheDefaultAsTheShellDoes) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: ${APP_NAME:-fallback}\n");
  EXPECT_EQ(load_config(file, environment({{"APP_NAME", ""}})).name, "fallback");
}

TEST(ConfigLoad, PlumePortAndPlumeHostOverrideTheFiles) {
  TempDir dir;
  dir.write("default.yaml", "host: 127.0.0.1\nport: 3030\n");
  const Config config =
      load_config(dir.path(), environment({{"PLUME_PORT", "0"}, {"PLUME_HOST", "0.0.0.0"}}));
  EXPECT_EQ(config.port, 0);
  EXPECT_EQ(config.host, "0.0.0.0");
}

TEST(ConfigLoad, BadPlumePortNamesTheVariable) {
  TempDir dir;
  dir.write("default.yaml", "port: 3030\n");
  const ConfigError error = error_of([&] { load_config(dir.path(), environment({{"PLUME_PORT", "http"}})); });
  EXPECT_EQ(error.key(), "port");
  EXPECT_EQ(error.origin(), "environment variable PLUME_PORT");
}

TEST(ConfigValidation, UnknownKeyNamesPathFileOfTheLaterFileAndTheChoices) {
  TempDir dir;
  dir.write("default.yaml", "services:\n  messages:\n    database: memory\n");
  const auto production = dir.write("production.yaml", "services:\n  messages:\n    paginat: false\n");
  const ConfigError error = error_of([&] {
    load_config(dir.path(), environment({{"PLUME_ENV", "production"}}));
  });
  EXPECT_EQ(error.key(), "services.messages.paginat");
  EXPECT_EQ(error.origin(), production.string() + ":3");
  EXPECT_NE(
      error.problem().find("unknown key; expected one of: database, table, id, idType, schema, paginate"),
      std::string::npos)
      << error.what();
  EXPECT_NE(std::string(error.what()).find("production.yaml:3: services.messages.paginat: unknown key"),
            std::string::npos)
      << error.what();
}

TEST(ConfigValidation, UnknownTopLevelKeyFails) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: chat\nprot: 3030\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "prot");
  EXPECT_EQ(error.origin(), file.string() + ":2");
}

TEST(ConfigValidation, WrongTypeSaysWhatWasExpected) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "threads: many\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "threads");
  EXPECT_NE(error.problem().find("expected an integer"), std::string::npos) << error.what();
  EXPECT_NE(error.problem().find("got \"many\""), std::string::npos) << error.what();
}

TEST(ConfigValidation, KeysOfInactiveSectionsAreCheckedToo) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
gateway:
  proxyTable:
    /api/service:
      target: http://127.0.0.1:4000
      rateLimit: { limit: 600, window: 1m, by: consumer, stor: local }
)");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "gateway.proxyTable[\"/api/service\"].rateLimit.stor");
  EXPECT_EQ(error.origin(), file.string() + ":6");
}

TEST(ConfigMesh, SectionsBecomeOptions) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
name: api
mesh:
  secret: s3cret
  discovery: redis://127.0.0.1:6390/2
  publish: ["messages", "users*"]
  consume: ["*"]
  advertise: 10.0.0.5:3030
  heartbeatTimeout: 1500ms
  balance: least-pending
  breaker: { threshold: 0.25, minRequests: 5, halfOpenAfter: 2s }
  remoteAuth: jwt
sync: { redis: redis://127.0.0.1:6391, maxLength: 500 }
queues:
  thumbnails: { redis: redis://127.0.0.1:6379, service: images, method: resize, concurrency: 4, backoff: 2s }
)");
  const Config config = load_config(file, environment({}));
  ASSERT_TRUE(config.mesh.has_value());
  EXPECT_EQ(config.mesh->name, "api");
  EXPECT_EQ(config.mesh->secret, "s3cret");
  EXPECT_EQ(config.mesh->discovery, "redis://127.0.0.1:6390/2");
  EXPECT_EQ(config.mesh->publish, (std::vector<std::string>{"messages", "users*"}));
  EXPECT_EQ(config.mesh->advertise, "10.0.0.5:3030");
  EXPECT_EQ(config.mesh->heartbeat_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(config.mesh->balance, mesh::Balance::LeastPending);
  EXPECT_DOUBLE_EQ(config.mesh->breaker.threshold, 0.25);
  EXPECT_EQ(config.mesh->breaker.min_requests, 5u);
  EXPECT_EQ(config.mesh->breaker.half_open_after, std::chrono::seconds(2));
  EXPECT_EQ(config.mesh->remote_auth, "jwt");
  ASSERT_TRUE(config.sync.has_value());
  EXPECT_EQ(config.sync->redis, "redis://127.0.0.1:6391");
  EXPECT_EQ(config.sync->max_length, 500u);
  ASSERT_EQ(config.queues.size(), 1u);
  EXPECT_EQ(config.queues[0].name, "thumbnails");
  EXPECT_EQ(config.queues[0].service, "images");
  EXPECT_EQ(config.queues[0].method, "resize");
  EXPECT_EQ(config.queues[0].concurrency, 4u);
  EXPECT_EQ(config.queues[0].backoff, std::chrono::seconds(2));
}

TEST(ConfigMesh, BadValuesNameTheKey) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "mesh: { secret: s, balance: random }\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "mesh.balance");
  const auto peers = dir.write("peers.yaml", "mesh: { secret: s, discovery: static, peers: [http://a:1] }\n");
  EXPECT_EQ(error_of([&] { load_config(peers, environment({})); }).key(), "mesh.peers[0]");
}

TEST(ConfigMesh, TlsIsThePreSharedKeyUnlessOffOrCertificatesAreGiven) {
  TempDir dir;
  auto mode_of = [&](const std::string& tls) {
    const auto file = dir.write("node.yaml", "mesh:\n  secret: s\n" + tls);
    return load_config(file, environment({})).mesh->tls;
  };
  EXPECT_EQ(mode_of("").mode, mesh::MeshTlsMode::Psk);
  EXPECT_EQ(mode_of("  tls: psk\n").mode, mesh::MeshTlsMode::Psk);
  EXPECT_EQ(mode_of("  tls: off\n").mode, mesh::MeshTlsMode::Off);
  EXPECT_EQ(mode_of("  tls: false\n").mode, mesh::MeshTlsMode::Off);
  const auto certificates = mode_of("  tls: { cert: node.pem, key: node.key, ca: ca.pem }\n");
  EXPECT_EQ(certificates.mode, mesh::MeshTlsMode::Certificates);
  EXPECT_EQ(certificates.cert, "node.pem");
  EXPECT_EQ(certificates.key, "node.key");
  EXPECT_EQ(certificates.ca, "ca.pem");
}

TEST(ConfigMesh, BadTlsValuesNameTheKey) {
  TempDir dir;
  auto key_of = [&](const std::string& mesh) {
    const auto file = dir.write("node.yaml", "mesh:\n  secret: s\n" + mesh);
    return error_of([&] { load_config(file, environment({})); }).key();
  };
  EXPECT_EQ(key_of("  tls: on\n"), "mesh.tls");
  EXPECT_EQ(key_of("  tls: true\n"), "mesh.tls");
  EXPECT_EQ(key_of("  tls: { cert: a.pem, key: a.key }\n"), "mesh.tls.ca");
  EXPECT_EQ(key_of("  tls: { cert: a.pem, key: a.key, ca: c.pem, verify: no }\n"), "mesh.tls.verify");
}

TEST(ConfigMesh, StaticPeersMayBeWss) {
  TempDir dir;
  const auto file =
      dir.write("node.yaml", "mesh: { secret: s, discovery: static, peers: [wss://a:1, ws://b:2] }\n");
  EXPECT_EQ(load_config(file, environment({})).mesh->peers,
            (std::vector<std::string>{"wss://a:1", "ws://b:2"}));
}

TEST(ConfigValidation, ServiceMustUseAKnownDatabase) {
  TempDir dir;
  const auto file =
      dir.write("node.yaml", "databases: { main: memory:// }\nservices:\n  messages: { database: mian }\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "services.messages.database");
  EXPECT_NE(error.problem().find("expected one of: memory, main"), std::string::npos) << error.what();
}

TEST(ConfigValidation, MultiAcceptsBooleansOrMethodLists) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "services:\n  a: { multi: true }\n  b: { multi: [create] }\n");
  const Config config = load_config(file, environment({}));
  EXPECT_EQ(config.services[0].store.multi, (std::vector<std::string>{"create", "patch", "remove"}));
  EXPECT_EQ(config.services[1].store.multi, (std::vector<std::string>{"create"}));

  const auto bad = dir.write("bad.yaml", "services:\n  a: { multi: [create, find] }\n");
  const ConfigError error = error_of([&] { load_config(bad, environment({})); });
  EXPECT_EQ(error.key(), "services.a.multi[1]");
  EXPECT_NE(error.problem().find("expected one of: create, patch, remove"), std::string::npos)
      << error.what();
}

TEST(ConfigValidation, PaginateDefaultAboveMaxFails) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "paginate: { default: 100, max: 50 }\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "paginate.default");
}

TEST(ConfigValidation, SchemaErrorsAreReportedAtTheSchemaKeyWithTheFile) {
  TempDir dir;
  const auto file =
      dir.write("node.yaml", "services:\n  messages:\n    schema:\n      text: { type: strang }\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.key(), "services.messages.schema");
  EXPECT_EQ(error.origin(), file.string() + ":4");
  EXPECT_FALSE(error.problem().empty());
}

TEST(ConfigServices, StoreOptionsComeFromTheServiceElseTheNodeDefaults) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
paginate: { default: 10, max: 50 }
databases: { main: sqlite://data/chat.db }
services:
  messages:
    database: main
    idType: string
    id: _id
    methods: [find, get, create]
    schema:
      text: { type: string, required: true, maxLength: 2000 }
  users/:userId/notes:
    paginate: false
)");
  const Config config = load_config(file, environment({}));
  ASSERT_EQ(config.services.size(), 2u);
  const ServiceConfig& messages = config.services[0];
  EXPECT_EQ(messages.table, "messages");
  EXPECT_EQ(messages.store.id_field, "_id");
  EXPECT_EQ(messages.store.id_type, store::IdType::String);
  ASSERT_TRUE(messages.store.paginate);
  EXPECT_EQ(messages.store.paginate->max_limit, 50);
  EXPECT_EQ(messages.store.operators, (std::vector<std::string>{"$like", "$ilike"}));
  EXPECT_EQ(messages.methods, (std::vector<std::string>{"find", "get", "create"}));
  ASSERT_NE(messages.store.schema.field("text"), nullptr);
  const ServiceConfig& notes = config.services[1];
  EXPECT_EQ(notes.database, "memory");
  EXPECT_EQ(notes.table, "users_userId_notes");
  EXPECT_FALSE(notes.store.paginate);
  EXPECT_TRUE(notes.store.operators.empty());
}

TEST(ConfigServices, LimitsTakeSizesAndDurations) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
limits: { bodySize: 2mb, headerSize: 8192, headerTimeout: 5s, idleTimeout: 2m, shutdownTimeout: 500ms }
)");
  const Config config = load_config(file, environment({}));
  EXPECT_EQ(config.limits.body_size, 2u * 1024 * 1024);
  EXPECT_EQ(config.limits.header_size, 8192u);
  EXPECT_EQ(config.limits.header_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config.limits.idle_timeout, std::chrono::minutes(2));
  EXPECT_EQ(config.limits.shutdown_timeout, std::chrono::milliseconds(500));
}

TEST(ConfigLimits, ThrottleHashingSessionsAndAdminBecomeOptions) {
  TempDir dir;
  const auto file = dir.write("node.yaml", R"(
authentication:
  secret: s
  throttle: { perAddress: { limit: 20, window: 5m }, perAccount: { limit: 3, window: 1m } }
  hashing: { threads: 2, maxWaiting: 8 }
realtime: { maxSessions: 500, maxUnconnected: 50 }
admin:
  host: 0.0.0.0
  port: 9090
  token: ${PLUME_ADMIN_TOKEN}
)");
  const Config config = load_config(file, environment({{"PLUME_ADMIN_TOKEN", "let-me-in"}}));
  ASSERT_TRUE(config.authentication);
  const auto& throttle = config.authentication->throttle;
  EXPECT_TRUE(throttle.enabled);
  EXPECT_EQ(throttle.per_address.limit, 20u);
  EXPECT_EQ(throttle.per_address.window, std::chrono::minutes(5));
  EXPECT_EQ(throttle.per_account.limit, 3u);
  EXPECT_EQ(config.authentication->hashing.threads, 2u);
  EXPECT_EQ(config.authentication->hashing.max_waiting, 8u);
  EXPECT_EQ(config.realtime.max_sessions, 500u);
  EXPECT_EQ(config.realtime.max_unconnected, 50u);
  EXPECT_EQ(config.admin.host, "0.0.0.0");
  EXPECT_EQ(config.admin.port, 9090);
  // sha256("let-me-in"); the token itself is kept nowhere, not even in the settings.
  EXPECT_EQ(config.admin.token_sha256, "a3ee786b5707c27d42570785081ec17f5c7db9262a01366af362a1aa61a420b9");
  EXPECT_EQ(to_json_text(config.resolved).find("let-me-in"), std::string::npos);
}

TEST(ConfigLimits, DefaultsThrottleLoginsAndKeepTheAdminPathsOnLoopback) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "authentication: { secret: s, throttle: false }\n");
  const Config config = load_config(file, environment({}));
  EXPECT_FALSE(config.authentication->throttle.enabled);
  EXPECT_FALSE(config.admin.port);
  EXPECT_TRUE(config.admin.token_sha256.empty());
  const Config defaults =
      load_config(dir.write("other.yaml", "authentication: { secret: s }\n"), environment({}));
  EXPECT_TRUE(defaults.authentication->throttle.enabled);
  EXPECT_EQ(defaults.authentication->throttle.per_address.limit, 50u);
  EXPECT_EQ(defaults.authentication->throttle.per_account.limit, 10u);
}

TEST(ConfigLimits, BadValuesNameTheKey) {
  TempDir dir;
  const auto bad = [&](const std::string& text) {
    try {
      (void)load_config(dir.write("bad.yaml", text), environment({}));
    } catch (const ConfigError& error) {
      return error.key();
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(bad("authentication: { secret: s, throttle: { perIp: {} } }\n"), "authentication.throttle.perIp");
  EXPECT_EQ(bad("authentication: { secret: s, throttle: { perAccount: { limit: -1 } } }\n"),
            "authentication.throttle.perAccount.limit");
  EXPECT_EQ(bad("realtime: { maxSessions: 0 }\n"), "realtime.maxSessions");
  EXPECT_EQ(bad("admin: { port: 9090, token: a, tokenSha256: b }\n"), "admin");
  EXPECT_EQ(bad("admin: { tokenSha256: abc }\n"), "admin.tokenSha256");
}

TEST(ConfigLoad, MissingDirectoryAndEmptyDirectoryFail) {
  TempDir dir;
  EXPECT_THROW(load_config(dir.path() / "absent", environment({})), ConfigError);
  const ConfigError error = error_of([&] { load_config(dir.path(), environment({})); });
  EXPECT_NE(error.problem().find("default.yaml"), std::string::npos) << error.what();
}

TEST(ConfigLoad, InvalidYamlNamesTheFileAndLine) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: chat\nport: [3030\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.origin().rfind(file.string() + ":", 0), 0u) << error.what();
}

TEST(ConfigLoad, TextThatIsNotUtf8NamesTheFileAndLine) {
  // Found by config_fuzz: bytes that are not UTF-8 were read as they were, and printing the
  // configuration back (plume check) gave other text.
  TempDir dir;
  const auto file = dir.write("node.yaml", "port: 3030\nname: caf\xe9\n");
  const ConfigError error = error_of([&] { load_config(file, environment({})); });
  EXPECT_EQ(error.origin(), file.string() + ":2") << error.what();
  EXPECT_NE(error.problem().find("not UTF-8"), std::string::npos) << error.what();
  EXPECT_EQ(load_config(dir.write("ok.yaml", "name: caf\xc3\xa9\n"), environment({})).name, "caf\xc3\xa9");
}

TEST(ConfigLoad, FloatPastTheDoubleRangeIsAValueNotACrash) {
  // Found by config_fuzz: std::stod threw std::out_of_range for 7e0900, out of load_config.
  EXPECT_EQ(plain_scalar("7e0900"), Json(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(plain_scalar("-1e999"), Json(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(plain_scalar("1e-400"), Json(0.0));
  TempDir dir;
  const ConfigError error =
      error_of([&] { load_config(dir.write("node.yaml", "port: 7e0900\n"), environment({})); });
  EXPECT_EQ(error.key(), "port") << error.what();
  const ConfigError from_env = error_of([&] {
    load_config(dir.write("env.yaml", "name: x\n"), environment({{"PLUME_PORT", "1e999"}}));
  });
  EXPECT_EQ(from_env.key(), "port") << from_env.what();
}

}  // namespace
}  // namespace plume::config
