#include <plume/core/query.hpp>

#include <gtest/gtest.h>

namespace {

using plume::parse_query;

struct MatchCase {
  const char* query;
  const char* record;
  bool matches;
};

plume::QueryOptions with_like() {
  plume::QueryOptions options;
  options.operators = {"$like", "$ilike"};
  return options;
}

void expect_cases(const std::vector<MatchCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.query) + " on " + c.record);
    EXPECT_EQ(parse_query(std::string_view(c.query), with_like()).matches(c.record), c.matches);
  }
}

TEST(QueryMatch, GreaterThanComparesNumbersNotStrings) {
  auto query = parse_query(R"({"age": {"$gt": 20}})");
  EXPECT_TRUE(query.matches(R"({"age": 21})"));
  EXPECT_FALSE(query.matches(R"({"age": 9})"));
  // sift compares only values of one type: the string "21" is not greater than 20.
  EXPECT_FALSE(query.matches(R"({"age": "21"})"));
}

TEST(QueryMatch, EqualityComparesNumbersByValue) {
  expect_cases({
      {R"({"n": 1})", R"({"n": 1.0})", true},
      {R"({"n": 1})", R"({"n": 2})", false},
      {R"({"n": "1"})", R"({"n": 1})", false},
      {R"({"flag": true})", R"({"flag": true})", true},
      {R"({"a": {"b": 1}})", R"({"a": {"b": 1}})", true},
      {R"({"a": {"b": 1}})", R"({"a": {"b": 1, "c": 2}})", false},
  });
}

TEST(QueryMatch, MissingFieldsAreNull) {
  expect_cases({
      {R"({"gone": null})", R"({"a": 1})", true},
      {R"({"gone": null})", R"({"gone": null})", true},
      {R"({"gone": null})", R"({"gone": 0})", false},
      {R"({"gone": {"$ne": null}})", R"({"a": 1})", false},
      {R"({"gone": {"$ne": null}})", R"({"gone": 5})", true},
      {R"({"gone": {"$in": [null, 1]}})", R"({})", true},
      {R"({"gone": 1})", R"({})", false},
  });
}

TEST(QueryMatch, ArrayFieldsMatchAnElement) {
  expect_cases({
      {R"({"tags": "red"})", R"({"tags": ["blue", "red"]})", true},
      {R"({"tags": "green"})", R"({"tags": ["blue", "red"]})", false},
      {R"({"tags": {"$ne": "red"}})", R"({"tags": ["blue", "red"]})", false},
      {R"({"tags": {"$in": ["x", "blue"]}})", R"({"tags": ["blue", "red"]})", true},
      {R"({"tags": {"$nin": ["blue"]}})", R"({"tags": ["blue", "red"]})", false},
      {R"({"tags": ["blue", "red"]})", R"({"tags": ["blue", "red"]})", true},
      {R"({"scores": {"$gt": 8}})", R"({"scores": [3, 9]})", true},
      {R"({"scores": {"$gt": 9}})", R"({"scores": [3, 9]})", false},
  });
}

TEST(QueryMatch, EveryComparisonOperator) {
  expect_cases({
      {R"({"n": {"$lt": 5}})", R"({"n": 4})", true},
      {R"({"n": {"$lt": 5}})", R"({"n": 5})", false},
      {R"({"n": {"$lte": 5}})", R"({"n": 5})", true},
      {R"({"n": {"$lte": 5}})", R"({"n": 6})", false},
      {R"({"n": {"$gt": 5}})", R"({"n": 6})", true},
      {R"({"n": {"$gt": 5}})", R"({"n": 5})", false},
      {R"({"n": {"$gte": 5}})", R"({"n": 5.0})", true},
      {R"({"n": {"$gte": 5}})", R"({"n": 4.9})", false},
      {R"({"n": {"$ne": 5}})", R"({"n": 4})", true},
      {R"({"n": {"$ne": 5}})", R"({"n": 5})", false},
      {R"({"n": {"$in": [1, 2]}})", R"({"n": 2})", true},
      {R"({"n": {"$in": [1, 2]}})", R"({"n": 3})", false},
      {R"({"n": {"$nin": [1, 2]}})", R"({"n": 3})", true},
      {R"({"n": {"$nin": [1, 2]}})", R"({"n": 1})", false},
      {R"({"n": {"$in": []}})", R"({"n": 1})", false},
      {R"({"n": {"$gt": 1, "$lt": 3}})", R"({"n": 2})", true},
      {R"({"n": {"$gt": 1, "$lt": 3}})", R"({"n": 3})", false},
      {R"({"s": {"$gte": "b"}})", R"({"s": "banana"})", true},
      {R"({"s": {"$lt": "b"}})", R"({"s": "apple"})", true},
      {R"({"s": {"$lt": 5}})", R"({"s": "apple"})", false},
      {R"({"s": {"$lt": 5}})", R"({})", false},
      {R"({"s": {"$gte": null}})", R"({})", true},
      {R"({"s": {"$lte": null}})", R"({"s": null})", true},
      {R"({"s": {"$gt": null}})", R"({})", false},
      {R"({"s": {"$gte": null}})", R"({"s": 5})", false},
      {R"({"t": {"$gt": "2024-01-01T00:00:00.000Z"}})", R"({"t": "2024-06-01T00:00:00.000Z"})", true},
  });
}

TEST(QueryMatch, LikeFollowsSqlPatterns) {
  expect_cases({
      {R"({"s": {"$like": "ab%"}})", R"({"s": "abc"})", true},
      {R"({"s": {"$like": "ab%"}})", R"({"s": "xabc"})", false},
      {R"({"s": {"$like": "%b%"}})", R"({"s": "abc"})", true},
      {R"({"s": {"$like": "a_c"}})", R"({"s": "abc"})", true},
      {R"({"s": {"$like": "a_c"}})", R"({"s": "abbc"})", false},
      {R"({"s": {"$like": "a%c%e"}})", R"({"s": "abcdcxe"})", true},
      {R"({"s": {"$like": "a%c%e"}})", R"({"s": "abcdcxf"})", false},
      {R"({"s": {"$like": "%"}})", R"({"s": ""})", true},
      {R"({"s": {"$like": "_"}})", R"({"s": "é"})", true},
      {R"({"s": {"$like": "ABC"}})", R"({"s": "abc"})", false},
      {R"({"s": {"$ilike": "ABC"}})", R"({"s": "abc"})", true},
      {R"({"s": {"$ilike": "a%Z"}})", R"({"s": "AbcZ"})", true},
      {R"({"s": {"$like": "1%"}})", R"({"s": 12})", false},
  });
}

TEST(QueryMatch, OrAndCombine) {
  expect_cases({
      {R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"a": 1, "b": 0})", true},
      {R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"a": 0, "b": 2})", true},
      {R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"a": 0, "b": 0})", false},
      {R"({"$and": [{"a": {"$gt": 1}}, {"a": {"$lt": 5}}]})", R"({"a": 3})", true},
      {R"({"$and": [{"a": {"$gt": 1}}, {"a": {"$lt": 5}}]})", R"({"a": 7})", false},
      {R"({"$or": [{"a": 1}, {"$and": [{"b": 2}, {"c": 3}]}]})", R"({"b": 2, "c": 3})", true},
      {R"({"$or": [{"a": 1}, {"$and": [{"b": 2}, {"c": 3}]}]})", R"({"b": 2, "c": 4})", false},
      {R"({"x": 1, "$or": [{"a": 1}, {"b": 1}]})", R"({"x": 2, "a": 1})", false},
  });
}

TEST(QueryMatch, DottedPathsReachNestedFields) {
  expect_cases({
      {R"({"address.city": "Paris"})", R"({"address": {"city": "Paris"}})", true},
      {R"({"address.city": "Paris"})", R"({"address": {"city": "Lyon"}})", false},
      {R"({"address.city": null})", R"({"address": 3})", true},
      {R"({"a.b": 1})", R"({"a.b": 1})", true},
  });
}

}  // namespace
