#include <plume/core/error.hpp>
#include <plume/core/id.hpp>

#include <gtest/gtest.h>

namespace plume {
namespace {

TEST(Id, FromJsonAcceptsIntegersIntegralDoublesAndStrings) {
  EXPECT_EQ(Id::from_json(Json(7)), Id(7));
  EXPECT_EQ(Id::from_json(Json(7.0)), Id(7));
  EXPECT_EQ(Id::from_json(Json("abc")), Id("abc"));
  EXPECT_THROW(Id::from_json(Json(1.5)), Error);
  EXPECT_THROW(Id::from_json(Json(true)), Error);
  EXPECT_THROW(Id::from_json(Json(nullptr)), Error);
}

TEST(Id, AsIntegerLikeAcceptsOnlyCanonicalDecimalStrings) {
  EXPECT_EQ(Id("42").as_integer_like(), 42);
  EXPECT_EQ(Id("-3").as_integer_like(), -3);
  EXPECT_EQ(Id(9).as_integer_like(), 9);
  EXPECT_EQ(Id("007").as_integer_like(), std::nullopt);
  EXPECT_EQ(Id("4x").as_integer_like(), std::nullopt);
  EXPECT_EQ(Id("").as_integer_like(), std::nullopt);
  EXPECT_EQ(Id("99999999999999999999").as_integer_like(), std::nullopt);
}

TEST(Id, ToStringAndToJsonKeepTheKind) {
  EXPECT_EQ(Id(42).to_string(), "42");
  EXPECT_EQ(Id("a1").to_string(), "a1");
  EXPECT_TRUE(Id(42).to_json().is_int64());
  EXPECT_TRUE(Id("42").to_json().is_string());
}

}  // namespace
}  // namespace plume
