#include <plume/config/node.hpp>

#include "config/test_files.hpp"

#include <gtest/gtest.h>

namespace plume::config {
namespace {

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

TEST(NodeAssembly, PostgresDatabaseFailsNamingTheKeyAndFile) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "name: x\ndatabases:\n  main: postgres://u:pw@db:5432/app\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "databases.main");
    EXPECT_EQ(error.origin(), file.string() + ":3");
    EXPECT_EQ(error.problem(), "PostgreSQL is not available in this build");
  }
}

TEST(NodeAssembly, ServiceRequiringAuthRefusesToStartRatherThanServeOpen) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "services:\n  messages:\n    auth: jwt\n");
  try {
    Node node(load_config(file, environment({})));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "services.messages.auth");
    EXPECT_EQ(error.origin(), file.string() + ":3");
  }
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

}  // namespace
}  // namespace plume::config
