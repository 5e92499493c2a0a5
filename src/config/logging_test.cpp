#include <plume/config/logging.hpp>

#include <gtest/gtest.h>

namespace plume::config {
namespace {

TEST(ConfigLogging, JsonLineSplitsEventAndFieldsWithIntegersAsNumbers) {
  const Json line = parse_json(json_log_line("2026-11-25T12:00:00.000Z", "info", "plume",
                                             "listening host=127.0.0.1 port=3030 name=\"my app\""));
  EXPECT_EQ(line.at("time"), "2026-11-25T12:00:00.000Z");
  EXPECT_EQ(line.at("level"), "info");
  EXPECT_EQ(line.at("msg"), "listening");
  EXPECT_EQ(line.at("host"), "127.0.0.1");
  EXPECT_EQ(line.at("port"), 3030);
  EXPECT_EQ(line.at("name"), "my app");
}

TEST(ConfigLogging, JsonLineKeepsMessagesThatAreNotKeyValue) {
  const Json line = parse_json(json_log_line("t", "warn", "plume", "cannot open x = y because it failed"));
  EXPECT_EQ(line.at("msg"), "cannot open x = y because it failed");
}

TEST(ConfigLogging, ValuesWithSpacesAreQuoted) {
  EXPECT_EQ(log_value("plain"), "plain");
  EXPECT_EQ(log_value("a b"), "\"a b\"");
  EXPECT_EQ(log_value("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(log_value(""), "\"\"");
}

}  // namespace
}  // namespace plume::config
