#include <plume/core/query.hpp>

#include <gtest/gtest.h>

namespace {

using plume::Json;
using plume::PaginateOptions;
using plume::parse_json;

std::vector<Json> records(const char* json_array) {
  std::vector<Json> out;
  const Json parsed = parse_json(json_array);
  for (const auto& item : parsed.as_array()) out.push_back(item);
  return out;
}

std::vector<std::int64_t> ids(const std::vector<Json>& records) {
  std::vector<std::int64_t> out;
  for (const auto& record : records) out.push_back(record.at("id").as_int64());
  return out;
}

TEST(QueryResults, SortUsesKeysInTheOrderGiven) {
  auto rows = records(R"([{"id": 1, "a": 2, "b": 1}, {"id": 2, "a": 1, "b": 2}, {"id": 3, "a": 2, "b": 3},
                          {"id": 4, "a": 1, "b": 1}])");
  auto query = plume::parse_query(R"({"$sort": {"a": 1, "b": -1}})");
  plume::sort_records(rows, query.sort);
  EXPECT_EQ(ids(rows), (std::vector<std::int64_t>{2, 4, 3, 1}));
  query = plume::parse_query(R"({"$sort": {"b": -1, "a": 1}})");
  plume::sort_records(rows, query.sort);
  EXPECT_EQ(ids(rows), (std::vector<std::int64_t>{3, 2, 4, 1}));
}

TEST(QueryResults, SortIsStableAndPutsMissingFirst) {
  auto rows =
      records(R"([{"id": 1, "n": 5}, {"id": 2}, {"id": 3, "n": 5}, {"id": 4, "n": "x"}, {"id": 5, "n": 1}])");
  plume::sort_records(rows, {{"n", 1}});
  EXPECT_EQ(ids(rows), (std::vector<std::int64_t>{2, 5, 1, 3, 4}));
  plume::sort_records(rows, {{"n", -1}});
  EXPECT_EQ(ids(rows), (std::vector<std::int64_t>{4, 1, 3, 5, 2}));
}

TEST(QueryResults, SortReadsDottedPaths) {
  auto rows = records(R"([{"id": 1, "u": {"age": 30}}, {"id": 2, "u": {"age": 20}}])");
  plume::sort_records(rows, {{"u.age", 1}});
  EXPECT_EQ(ids(rows), (std::vector<std::int64_t>{2, 1}));
}

TEST(QueryResults, SelectKeepsTheIdAndTheOrderAsked) {
  const auto record = parse_json(R"({"id": 7, "text": "hi", "n": 1, "secret": "s"})");
  const auto picked = plume::select_fields(record, {"n", "text", "missing"}, "id");
  EXPECT_EQ(plume::to_json_text(picked), R"({"n":1,"text":"hi","id":7})");
  EXPECT_EQ(plume::to_json_text(plume::select_fields(record, {}, "id")), R"({"id":7})");
  const auto custom_id = parse_json(R"({"_id": "a", "x": 1})");
  EXPECT_EQ(plume::to_json_text(plume::select_fields(custom_id, {"x"}, "_id")), R"({"x":1,"_id":"a"})");
}

TEST(QueryResults, EffectiveLimitFollowsFeathersGetLimit) {
  const PaginateOptions default_and_max{true, 10, 50};
  const PaginateOptions max_only{true, std::nullopt, 4};
  const PaginateOptions default_only{true, 10, std::nullopt};
  const PaginateOptions disabled{false, 10, 50};
  const auto abc = plume::parse_query(R"({"$limit": "abc"})").limit;
  struct Case {
    const char* name;
    std::optional<std::int64_t> requested;
    std::optional<PaginateOptions> paginate;
    std::optional<std::int64_t> expected;
  };
  const Case cases[] = {
      {"requested within max", 20, default_and_max, 20},
      {"no $limit takes the default", std::nullopt, default_and_max, 10},
      {"$limit=abc takes the default", abc, default_and_max, 10},
      {"$limit=100 with max 4", 100, max_only, 4},
      {"$limit=0 is kept", 0, default_and_max, 0},
      {"only max and no $limit gives 0", std::nullopt, max_only, 0},
      {"default without max is not capped", 1000, default_only, 1000},
      {"no pagination keeps the request", 1000, std::nullopt, 1000},
      {"no pagination and no $limit", std::nullopt, std::nullopt, std::nullopt},
      {"pagination disabled per call", 1000, disabled, 1000},
      {"zero default and max are falsy", 7, PaginateOptions{true, 0, 0}, 7},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(plume::effective_limit(c.requested, c.paginate), c.expected);
  }
}

TEST(QueryResults, PageHasFeathersShape) {
  plume::JsonArray data{parse_json(R"({"id": 1})")};
  EXPECT_EQ(plume::to_json_text(plume::make_page(6, 1, 0, std::move(data))),
            R"({"total":6,"limit":1,"skip":0,"data":[{"id":1}]})");
  EXPECT_EQ(plume::to_json_text(plume::make_page(1, 0, 0, {})),
            R"({"total":1,"limit":0,"skip":0,"data":[]})");
}

}  // namespace
