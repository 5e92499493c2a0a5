#include <plume/config/config.hpp>

#include <gtest/gtest.h>

namespace plume::config {
namespace {

TEST(ConfigUnits, DurationsReadMsSecondsMinutesHoursAndBareMilliseconds) {
  EXPECT_EQ(parse_duration(Json("500ms")), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration(Json("10s")), std::chrono::milliseconds(10'000));
  EXPECT_EQ(parse_duration(Json("1.5s")), std::chrono::milliseconds(1'500));
  EXPECT_EQ(parse_duration(Json("1m")), std::chrono::milliseconds(60'000));
  EXPECT_EQ(parse_duration(Json("2h")), std::chrono::milliseconds(7'200'000));
  EXPECT_EQ(parse_duration(Json(250)), std::chrono::milliseconds(250));
}

TEST(ConfigUnits, DurationsRejectUnknownUnitsAndNegatives) {
  EXPECT_FALSE(parse_duration(Json("10 parsecs")));
  EXPECT_FALSE(parse_duration(Json("s")));
  EXPECT_FALSE(parse_duration(Json(-1)));
  EXPECT_FALSE(parse_duration(Json(true)));
}

TEST(ConfigUnits, SizesArePowersOf1024CaseInsensitive) {
  EXPECT_EQ(parse_size(Json("512b")), 512u);
  EXPECT_EQ(parse_size(Json("16kb")), 16u * 1024);
  EXPECT_EQ(parse_size(Json("1MB")), 1024u * 1024);
  EXPECT_EQ(parse_size(Json("1 gb")), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_size(Json(4096)), 4096u);
}

TEST(ConfigUnits, SizesRejectUnknownUnits) {
  EXPECT_FALSE(parse_size(Json("1mib")));
  EXPECT_FALSE(parse_size(Json("big")));
  EXPECT_FALSE(parse_size(Json("1..5kb")));
}

}  // namespace
}  // namespace plume::config
