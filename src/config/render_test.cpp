#include <plume/config/config.hpp>

#include "config/config_tree.hpp"
#include "config/test_files.hpp"

#include <gtest/gtest.h>

namespace plume::config {
namespace {

TEST(ConfigMask, SecretAndPasswordKeysAndUrlPasswordsAreMasked) {
  const Json masked = mask_secrets(parse_json(R"({
    "authentication": {"secret": "s3cr3t", "service": "users"},
    "mesh": {"secret": "m"},
    "databases": {"pg": "postgres://app:hunter2@db:5432/app", "lite": "sqlite://data/a.db"},
    "sync": {"redis": "redis://:pw@cache:6379"},
    "services": {"users": {"schema": {"password": {"type": "string", "secret": true}}}},
    "smtp": {"clientPassword": "x"}
  })"));
  EXPECT_EQ(masked.at("authentication").at("secret"), "****");
  EXPECT_EQ(masked.at("authentication").at("service"), "users");
  EXPECT_EQ(masked.at("mesh").at("secret"), "****");
  EXPECT_EQ(masked.at("databases").at("pg"), "postgres://app:****@db:5432/app");
  EXPECT_EQ(masked.at("databases").at("lite"), "sqlite://data/a.db");
  EXPECT_EQ(masked.at("sync").at("redis"), "redis://:****@cache:6379");
  // A schema that declares a field secret is configuration, not a secret.
  EXPECT_EQ(masked.at("services").at("users").at("schema").at("password").at("secret"), true);
  EXPECT_EQ(masked.at("services").at("users").at("schema").at("password").at("type"), "string");
  EXPECT_EQ(masked.at("smtp").at("clientPassword"), "****");
}

TEST(ConfigYaml, PrintedYamlReadsBackToTheSameTypes) {
  const Json value = parse_json(R"({"name": "3030", "port": 3030, "flag": "true", "on": false,
    "list": ["a", 1, null], "empty": {}, "text": "hello world"})");
  const std::string yaml = to_yaml(value);
  const ConfigTree tree = parse_config_text(yaml, "printed", testing::environment({}));
  EXPECT_TRUE(json_equal(tree.value, value)) << yaml;
}

TEST(ConfigYaml, PlainScalarsTakeCoreSchemaTypes) {
  EXPECT_TRUE(plain_scalar("~").is_null());
  EXPECT_EQ(plain_scalar("True"), true);
  EXPECT_EQ(plain_scalar("-12"), -12);
  EXPECT_EQ(plain_scalar("0x1F"), 31);
  EXPECT_EQ(plain_scalar("1.5e3"), 1500.0);
  EXPECT_EQ(plain_scalar("10s"), "10s");
  EXPECT_EQ(plain_scalar("yes"), "yes");  // YAML 1.2: only true/false are booleans
  EXPECT_EQ(plain_scalar("1mb"), "1mb");
}

TEST(ConfigJson, PrettyJsonParsesBack) {
  const Json value = parse_json(R"({"a": [1, {"b": "c"}], "d": {}, "e": []})");
  EXPECT_TRUE(json_equal(parse_json(to_pretty_json(value)), value));
}

}  // namespace
}  // namespace plume::config
