#include <plume/core/error.hpp>
#include <plume/core/query.hpp>
#include <plume/core/schema.hpp>

#include <gtest/gtest.h>

#include <functional>

namespace {

using plume::Condition;
using plume::Json;
using plume::parse_json;
using plume::parse_query;
using plume::QueryOp;

// Runs `call`, which must throw plume::Error; returns it for inspection.
plume::Error error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const plume::Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected a plume::Error";
  return plume::general_error("no error");
}

TEST(QueryParse, LimitAndSkipUseParseIntSemantics) {
  struct Case {
    const char* json;
    std::optional<std::int64_t> limit;
    std::int64_t skip;
  };
  const Case cases[] = {
      {R"({"$limit": "10", "$skip": "5"})", 10, 5},
      {R"({"$limit": 10, "$skip": 2})", 10, 2},
      {R"({"$limit": "abc", "$skip": "abc"})", std::nullopt, 0},
      {R"({"$limit": "12px", "$skip": " 3"})", 12, 3},
      {R"({"$limit": 2.7})", 2, 0},
      {R"({"$limit": "0x10"})", 0, 0},
      {R"({"$limit": "-5", "$skip": "-1"})", std::nullopt, 0},
      {R"({"$limit": "0"})", 0, 0},
      {R"({"$limit": null, "$skip": true})", std::nullopt, 0},
      {R"({"$limit": ["7"]})", 7, 0},
      {R"({"$limit": 1e21})", 1, 0},
      {R"({"$limit": 1e17, "$skip": 5e-7})", 100000000000000000, 5},
      {R"({"$limit": 1e20})", INT64_MAX, 0},
      {R"({"$limit": -0.5})", 0, 0},
      {R"({"$limit": "99999999999999999999999"})", INT64_MAX, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const auto query = parse_query(std::string_view(c.json));
    EXPECT_EQ(query.limit, c.limit);
    EXPECT_EQ(query.skip, c.skip);
  }
}

TEST(QueryParse, SortKeepsKeyOrderAndParsesDirections) {
  const auto query = parse_query(R"({"$sort": {"b": "-1", "a": 1, "c": "1"}})");
  ASSERT_EQ(query.sort.size(), 3u);
  EXPECT_EQ(query.sort[0].field, "b");
  EXPECT_EQ(query.sort[0].direction, -1);
  EXPECT_EQ(query.sort[1].field, "a");
  EXPECT_EQ(query.sort[1].direction, 1);
  EXPECT_EQ(query.sort[2].field, "c");
  EXPECT_EQ(query.sort[2].direction, 1);
}

TEST(QueryParse, SortRejectsDirectionsThatAreNotNumbers) {
  EXPECT_EQ(error_of([] { parse_query(R"({"$sort": {"name": "asc"}})"); }).message(),
            "Invalid $sort direction for 'name': use 1 or -1");
  EXPECT_EQ(error_of([] { parse_query(R"({"$sort": "name"})"); }).code(), plume::ErrorCode::BadRequest);
}

TEST(QueryParse, SelectTakesAListOrASingleName) {
  auto query = parse_query(R"({"$select": ["text", "n", 5]})");
  ASSERT_TRUE(query.select);
  EXPECT_EQ(*query.select, (std::vector<std::string>{"text", "n", "5"}));
  query = parse_query(R"({"$select": "text"})");
  EXPECT_EQ(*query.select, (std::vector<std::string>{"text"}));
  query = parse_query(R"({})");
  EXPECT_FALSE(query.select);
}

TEST(QueryParse, UnknownFilterIsRejectedWithFeathersMessage) {
  const auto error = error_of([] { parse_query(R"({"$foo": 1})"); });
  EXPECT_EQ(error.code(), plume::ErrorCode::BadRequest);
  EXPECT_EQ(error.message(), "Invalid filter value $foo");
}

TEST(QueryParse, UnknownOperatorIsRejectedWithTheSubQueryAsData) {
  const auto error = error_of([] { parse_query(R"({"name": {"$regex": "^a"}})"); });
  EXPECT_EQ(error.code(), plume::ErrorCode::BadRequest);
  EXPECT_EQ(error.message(), "Invalid query parameter $regex");
  EXPECT_TRUE(plume::json_equal(error.data(), parse_json(R"({"$regex": "^a"})")));
}

TEST(QueryParse, UnknownOperatorInsideOrIsRejected) {
  const auto error = error_of([] { parse_query(R"({"$or": [{"a": {"$exists": true}}]})"); });
  EXPECT_EQ(error.message(), "Invalid query parameter $exists");
  EXPECT_TRUE(plume::json_equal(error.data(), parse_json(R"({"$exists": true})")));
  EXPECT_EQ(error_of([] { parse_query(R"({"$or": [{"$limit": 1}]})"); }).message(),
            "Invalid query parameter $limit");
}

TEST(QueryParse, OperatorNestedInAnEqualityObjectIsStillChecked) {
  EXPECT_EQ(error_of([] { parse_query(R"({"a": {"b": {"$where": "x"}}})"); }).message(),
            "Invalid query parameter $where");
}

TEST(QueryParse, LikeNeedsTheStoreToAcceptIt) {
  EXPECT_EQ(error_of([] { parse_query(R"({"name": {"$like": "a%"}})"); }).message(),
            "Invalid query parameter $like");
  plume::QueryOptions options;
  options.operators = {"$like", "$ilike"};
  const auto query = parse_query(R"({"name": {"$like": "a%", "$ilike": "B%"}})", options);
  ASSERT_EQ(query.where.children.size(), 2u);
  EXPECT_EQ(query.where.children[0].op, QueryOp::Like);
  EXPECT_EQ(query.where.children[1].op, QueryOp::ILike);
}

TEST(QueryParse, PropertyOperatorsBecomeComparisons) {
  const auto query = parse_query(
      R"({"a": 1, "b": {"$gt": 1, "$lte": 5}, "c": {"$in": [1, 2]}, "d": {"$nin": "x"}, "e": {"$ne": null}})");
  const auto& children = query.where.children;
  ASSERT_EQ(children.size(), 6u);
  EXPECT_EQ(query.where.kind, Condition::Kind::And);
  EXPECT_EQ(children[0].field, "a");
  EXPECT_EQ(children[0].op, QueryOp::Eq);
  EXPECT_EQ(children[1].op, QueryOp::Gt);
  EXPECT_EQ(children[2].op, QueryOp::Lte);
  EXPECT_EQ(children[3].op, QueryOp::In);
  EXPECT_TRUE(plume::json_equal(children[3].value, parse_json("[1, 2]")));
  // A single value for $in/$nin (qs: `d[$nin]=x`) is a list of one.
  EXPECT_EQ(children[4].op, QueryOp::Nin);
  EXPECT_TRUE(plume::json_equal(children[4].value, parse_json(R"(["x"])")));
  EXPECT_EQ(children[5].op, QueryOp::Ne);
  EXPECT_TRUE(children[5].value.is_null());
}

TEST(QueryParse, OrAndNestIntoTheTree) {
  const auto query = parse_query(R"({"$or": [{"a": 1}, {"$and": [{"b": 2}, {"$or": [{"c": 3}]}]}], "d": 4})");
  ASSERT_EQ(query.where.children.size(), 2u);
  const auto& either = query.where.children[0];
  EXPECT_EQ(either.kind, Condition::Kind::Or);
  ASSERT_EQ(either.children.size(), 2u);
  const auto& both = either.children[1].children.at(0);
  EXPECT_EQ(both.kind, Condition::Kind::And);
  EXPECT_EQ(both.children.at(1).children.at(0).kind, Condition::Kind::Or);
  EXPECT_EQ(query.where.children[1].field, "d");
}

TEST(QueryParse, OrAndMustBeNonEmptyLists) {
  EXPECT_EQ(error_of([] { parse_query(R"({"$or": {"a": 1}})"); }).message(),
            "$or must be an array of queries");
  EXPECT_EQ(error_of([] { parse_query(R"({"$and": []})"); }).message(),
            "$and/$or/$nor must be a nonempty array");
  EXPECT_EQ(error_of([] { parse_query(R"({"$or": [{"a": 1}, {"$or": []}]})"); }).code(),
            plume::ErrorCode::BadRequest);
}

TEST(QueryParse, EqualityOnAPlainObjectIsAllowed) {
  const auto query = parse_query(R"({"address": {"city": "Paris"}})");
  ASSERT_EQ(query.where.children.size(), 1u);
  EXPECT_EQ(query.where.children[0].op, QueryOp::Eq);
  EXPECT_TRUE(query.where.children[0].value.is_object());
}

TEST(QueryParse, NullQueryMatchesEverything) {
  const auto query = parse_query(Json(nullptr));
  EXPECT_TRUE(query.where.children.empty());
  EXPECT_TRUE(query.matches(R"({"a": 1})"));
}

TEST(QueryParse, SchemaRejectsUnknownFieldsInConditionsSortAndSelect) {
  const auto schema =
      plume::Schema::from_json(parse_json(R"({"text": {"type": "string"}, "n": {"type": "integer"}})"));
  plume::QueryOptions options;
  options.schema = &schema;
  EXPECT_NO_THROW(
      parse_query(R"({"text": "x", "id": 1, "$sort": {"n": 1}, "$select": ["text", "id"]})", options));
  EXPECT_EQ(error_of([&] { parse_query(R"({"foo": 1})", options); }).message(), "Invalid query field 'foo'");
  EXPECT_EQ(error_of([&] { parse_query(R"({"$sort": {"foo": 1}})", options); }).message(),
            "Invalid query field 'foo'");
  EXPECT_EQ(error_of([&] { parse_query(R"({"$select": ["text", "bar"]})", options); }).message(),
            "Invalid query field 'bar'");
  EXPECT_EQ(error_of([&] { parse_query(R"({"$or": [{"baz": 1}]})", options); }).message(),
            "Invalid query field 'baz'");
}

TEST(QueryParse, NonObjectQueryIsABadRequest) {
  EXPECT_EQ(error_of([] { parse_query(R"([1, 2])"); }).code(), plume::ErrorCode::BadRequest);
}

TEST(QueryParse, DeeplyNestedOrIsRejectedNotOverflowed) {
  Json query = parse_json(R"({"a": 1})");
  for (int i = 0; i < 40; ++i) {
    plume::JsonObject wrapper;
    wrapper["$or"] = plume::JsonArray{std::move(query)};
    query = std::move(wrapper);
  }
  EXPECT_EQ(error_of([&] { parse_query(query); }).message(), "The query is nested too deeply");
}

}  // namespace
