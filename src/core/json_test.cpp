#include <plume/core/error.hpp>
#include <plume/core/json.hpp>

#include <gtest/gtest.h>

#include <cmath>

#include <regex>

namespace plume {
namespace {

TEST(ParseJson, ReadsObjectsWithSurroundingWhitespace) {
  const Json value = parse_json(" {\"a\": [1, 2.5, \"x\", null, true]} \n");
  EXPECT_EQ(to_json_text(value), R"({"a":[1,2.5,"x",null,true]})");
}

TEST(ParseJson, MalformedTextIsBadRequestNamingTokenAndPosition) {
  try {
    parse_json(R"({"a": 1,})");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::BadRequest);
    EXPECT_EQ(e.message(), "Unexpected token } in JSON at position 8");
  }
}

TEST(ParseJson, TruncatedTextIsUnexpectedEnd) {
  try {
    parse_json("[1,2");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::BadRequest);
    EXPECT_EQ(e.message(), "Unexpected end of JSON input");
  }
  EXPECT_THROW(parse_json(""), Error);
}

TEST(ParseJson, TextAfterTheValueIsRejected) {
  try {
    parse_json("{} x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "Unexpected token x in JSON at position 3");
  }
}

TEST(ParseJson, ReadsDoublesWithCorrectRounding) {
  // Boost 1.81's own conversion reads this as 5.3333333333333325e+38.
  EXPECT_EQ(parse_json("5.333333333333333e+38").as_double(), 5.333333333333333e+38);
  EXPECT_EQ(parse_json("[0.30000000000000004]").at(0).as_double(), 0.1 + 0.2);
  EXPECT_EQ(to_json_text(parse_json(R"({"n":5.333333333333333e+38})")), R"({"n":5.333333333333333e+38})");
  EXPECT_EQ(parse_json("42").as_int64(), 42);
}

TEST(ToJsonText, WritesNumbersAsJavaScriptDoes) {
  EXPECT_EQ(to_json_text(Json(2.5)), "2.5");
  EXPECT_EQ(to_json_text(Json(3.0)), "3");
  EXPECT_EQ(to_json_text(Json(-0.1)), "-0.1");
  EXPECT_EQ(to_json_text(Json(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(to_json_text(Json(1e21)), "1e+21");
  EXPECT_EQ(to_json_text(Json(1.5e-7)), "1.5e-7");
  EXPECT_EQ(to_json_text(Json(123456789012.0)), "123456789012");
  EXPECT_EQ(to_json_text(Json(std::nan(""))), "null");
  EXPECT_EQ(to_json_text(Json(-7)), "-7");
  EXPECT_EQ(to_json_text(Json(18446744073709551615ull)), "18446744073709551615");
}

TEST(ToJsonText, EscapesStringsAndKeys) {
  const std::string text = R"({"a\"b":"line\nbreak\u0001 \u00e9 \"q\" \\"})";
  EXPECT_EQ(to_json_text(parse_json(text)), "{\"a\\\"b\":\"line\\nbreak\\u0001 \xC3\xA9 \\\"q\\\" \\\\\"}");
}

TEST(ToJsonText, IsCompact) {
  EXPECT_EQ(to_json_text(parse_json(R"({ "a" : { "b" : "c" } })")), R"({"a":{"b":"c"}})");
}

TEST(NowIso8601, HasMillisecondsAndZulu) {
  const std::string now = now_iso8601();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"))) << now;
}

TEST(JsonEqual, IntegerAndDoubleOfSameValueAreEqual) {
  EXPECT_TRUE(json_equal(Json(1), Json(1.0)));
  EXPECT_TRUE(json_equal(parse_json(R"({"a":[1,{"b":2}]})"), parse_json(R"({"a":[1.0,{"b":2.0}]})")));
  EXPECT_FALSE(json_equal(Json(1), Json(1.5)));
  EXPECT_FALSE(json_equal(Json(1), Json("1")));
}

TEST(JsonEqual, ObjectKeyOrderDoesNotMatter) {
  EXPECT_TRUE(json_equal(parse_json(R"({"a":1,"b":2})"), parse_json(R"({"b":2,"a":1})")));
  EXPECT_FALSE(json_equal(parse_json(R"({"a":1,"b":2})"), parse_json(R"({"a":1})")));
}

TEST(JsonCompare, NumbersCompareByValueAcrossRepresentations) {
  EXPECT_LT(json_compare(Json(2), Json(10)), 0);
  EXPECT_GT(json_compare(Json(2.5), Json(2)), 0);
  EXPECT_EQ(json_compare(Json(3), Json(3.0)), 0);
  EXPECT_LT(json_compare(Json(-1), Json(std::uint64_t{18446744073709551615ull})), 0);
}

TEST(JsonCompare, KindsOrderNullNumbersStringsBooleansOthers) {
  const Json ordered[] = {nullptr, Json(5), Json("a"), Json(false), JsonArray{}, JsonObject{}};
  for (std::size_t i = 0; i + 1 < std::size(ordered); ++i) {
    EXPECT_LT(json_compare(ordered[i], ordered[i + 1]), 0) << i;
    EXPECT_GT(json_compare(ordered[i + 1], ordered[i]), 0) << i;
  }
  EXPECT_LT(json_compare(Json("abc"), Json("abd")), 0);
  EXPECT_LT(json_compare(Json(false), Json(true)), 0);
}

}  // namespace
}  // namespace plume
