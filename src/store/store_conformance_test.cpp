// Conformance of every store: create, get, find with every operator, $sort, $select, pagination.
#include "store/store_conformance.hpp"

#include <atomic>
#include <set>
#include <thread>

namespace plume::store::conformance {
namespace {

template <class Backend>
class StoreConformance : public StoreFixture<Backend> {};
TYPED_TEST_SUITE(StoreConformance, Backends, BackendNames);

// ---- create ----

TYPED_TEST(StoreConformance, CreateAssignsSequentialIdsAndAppliesDefaults) {
  Service& people = this->make();
  Json first = create(people, R"({"name": "Alice"})");
  Json second = create(people, R"({"name": "Bob", "active": false})");
  EXPECT_EQ(first.at("id"), Json(1));
  EXPECT_EQ(second.at("id"), Json(2));
  EXPECT_EQ(first.at("active"), Json(true));  // schema default
  EXPECT_EQ(second.at("active"), Json(false));
  EXPECT_EQ(first.at("name"), Json("Alice"));
}

TYPED_TEST(StoreConformance, CreateRejectsInvalidRecordsWithValidationErrors) {
  Service& people = this->make();
  Error error = error_of([&] { create(people, R"({"age": "old"})"); });
  EXPECT_EQ(error.code(), ErrorCode::BadRequest);
  EXPECT_EQ(error.message(), "Validation failed");
  const std::string problems = to_json_text(error.errors());
  EXPECT_NE(problems.find("'name' is required"), std::string::npos) << problems;
  EXPECT_NE(problems.find("'age' must be an integer"), std::string::npos) << problems;
  EXPECT_EQ(ids(find(people)), Ids{});
}

TYPED_TEST(StoreConformance, CreateOfAnArrayNeedsMulti) {
  Service& people = this->make();
  Error error = error_of([&] { create(people, R"([{"name": "A"}, {"name": "B"}])"); });
  EXPECT_EQ(error.code(), ErrorCode::MethodNotAllowed);
  EXPECT_EQ(error.message(), "Can not create multiple entries");
  EXPECT_EQ(ids(find(people)), Ids{});

  Service& multi = this->make(with_multi(people_options()), "multi_people");
  Json created = create(multi, R"([{"name": "A"}, {"name": "B"}])");
  EXPECT_EQ(ids(created), (Ids{1, 2}));
}

TYPED_TEST(StoreConformance, CreateHonoursSelectAndKeepsId) {
  Service& people = this->make();
  Json created = create(people, R"({"name": "Alice", "age": 30})", R"({"$select": ["age"]})");
  EXPECT_EQ(created, j(R"({"id": 1, "age": 30})"));
}

TYPED_TEST(StoreConformance, RemovedIdsAreNotReused) {
  Service& people = this->make();
  create(people, R"({"name": "A"})");
  create(people, R"({"name": "B"})");
  remove(people, Id(2));
  EXPECT_EQ(create(people, R"({"name": "C"})").at("id"), Json(3));
}

TYPED_TEST(StoreConformance, CreateWithATakenIdIsConflict) {
  Service& people = this->make();
  create(people, R"({"id": 10, "name": "A"})");
  Error error = error_of([&] { create(people, R"({"id": 10, "name": "B"})"); });
  EXPECT_EQ(error.code(), ErrorCode::Conflict);
  EXPECT_EQ(get(people, Id(10)).at("name"), Json("A"));
}

// ---- get ----

TYPED_TEST(StoreConformance, GetConvertsStringIdsToTheStoreIdType) {
  Service& people = this->seeded();
  EXPECT_EQ(get(people, Id("3")).at("name"), Json("Carol"));
  EXPECT_EQ(get(people, Id(3)).at("meta"), j(R"({"team": "red"})"));
}

TYPED_TEST(StoreConformance, GetOfAnUnknownIdIsNotFoundWithFeathersMessage) {
  Service& people = this->seeded();
  Error missing = error_of([&] { get(people, Id(99)); });
  EXPECT_EQ(missing.code(), ErrorCode::NotFound);
  EXPECT_EQ(missing.message(), "No record found for id '99'");
  Error text = error_of([&] { get(people, Id("abc")); });
  EXPECT_EQ(text.code(), ErrorCode::NotFound);
  EXPECT_EQ(text.message(), "No record found for id 'abc'");
}

TYPED_TEST(StoreConformance, GetWithAQueryTheRecordDoesNotMatchIsNotFound) {
  Service& people = this->seeded();
  EXPECT_EQ(get(people, Id(1), R"({"age": 30})").at("name"), Json("Alice"));
  Error error = error_of([&] { get(people, Id("1"), R"({"age": {"$gt": 40}})"); });
  EXPECT_EQ(error.code(), ErrorCode::NotFound);
  EXPECT_EQ(error.message(), "No record found for id '1'");
}

TYPED_TEST(StoreConformance, GetSelectKeepsTheId) {
  Service& people = this->seeded();
  EXPECT_EQ(get(people, Id(2), R"({"$select": ["name"]})"), j(R"({"id": 2, "name": "Bob"})"));
}

// ---- find: every operator ----

TYPED_TEST(StoreConformance, FindWithoutQueryReturnsEveryRecordInIdOrder) {
  Service& people = this->seeded();
  Json all = find(people);
  ASSERT_TRUE(all.is_array());
  EXPECT_EQ(ids(all), (Ids{1, 2, 3, 4, 5}));
}

TYPED_TEST(StoreConformance, FindEqualityAndBooleans) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"age": 25})")), (Ids{2, 4}));
  EXPECT_EQ(ids(find(people, R"({"age": 25, "name": "Bob"})")), (Ids{2}));
  EXPECT_EQ(ids(find(people, R"({"active": false})")), (Ids{2, 4}));
  EXPECT_EQ(ids(find(people, R"({"active": true})")), (Ids{1, 3, 5}));
  EXPECT_EQ(ids(find(people, R"({"name": "nobody"})")), Ids{});
}

TYPED_TEST(StoreConformance, FindEqualityWithNullMatchesAbsentFields) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"age": null})")), (Ids{5}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$ne": null}})")), (Ids{1, 2, 3, 4}));
}

TYPED_TEST(StoreConformance, FindNotEqualIncludesRecordsWithoutTheField) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"age": {"$ne": 25}})")), (Ids{1, 3, 5}));
}

TYPED_TEST(StoreConformance, FindOrderedComparisonsSkipAbsentFields) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"age": {"$lt": 30}})")), (Ids{2, 4}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$lte": 30}})")), (Ids{1, 2, 4}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$gt": 30}})")), (Ids{3}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$gte": 30}})")), (Ids{1, 3}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$gt": 24, "$lt": 31}})")), (Ids{1, 2, 4}));
  EXPECT_EQ(ids(find(people, R"({"score": {"$gt": 7.5}})")), (Ids{1}));
  EXPECT_EQ(ids(find(people, R"({"name": {"$gte": "C"}})")), (Ids{3, 4, 5}));
}

TYPED_TEST(StoreConformance, FindInAndNotIn) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"age": {"$in": [25, 35]}})")), (Ids{2, 3, 4}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$in": []}})")), Ids{});
  EXPECT_EQ(ids(find(people, R"({"age": {"$in": [30, null]}})")), (Ids{1, 5}));
  // A record without the field is "not in" any list that does not hold null.
  EXPECT_EQ(ids(find(people, R"({"age": {"$nin": [25, 35]}})")), (Ids{1, 5}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$nin": [25, null]}})")), (Ids{1, 3}));
  EXPECT_EQ(ids(find(people, R"({"age": {"$nin": []}})")), (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(ids(find(people, R"({"name": {"$in": ["Bob", "Eve"]}})")), (Ids{2, 5}));
}

TYPED_TEST(StoreConformance, FindLikeIsCaseSensitiveAndILikeIsNot) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"name": {"$like": "D%"}})")), Ids{});
  EXPECT_EQ(ids(find(people, R"({"name": {"$like": "d%"}})")), (Ids{4}));
  EXPECT_EQ(ids(find(people, R"({"name": {"$like": "%o%"}})")), (Ids{2, 3}));
  EXPECT_EQ(ids(find(people, R"({"name": {"$like": "_ve"}})")), (Ids{5}));
  EXPECT_EQ(ids(find(people, R"({"name": {"$ilike": "D%"}})")), (Ids{4}));
  EXPECT_EQ(ids(find(people, R"({"name": {"$ilike": "%A%"}})")), (Ids{1, 3, 4}));
}

TYPED_TEST(StoreConformance, FindOrAndAnd) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"$or": [{"name": "Alice"}, {"age": 35}]})")), (Ids{1, 3}));
  EXPECT_EQ(ids(find(people, R"({"$or": [{"name": "Alice"}, {"age": 25}], "active": false})")), (Ids{2, 4}));
  EXPECT_EQ(ids(find(people, R"({"$and": [{"age": {"$gte": 25}}, {"age": {"$lt": 35}}]})")), (Ids{1, 2, 4}));
  EXPECT_EQ(
      ids(find(people, R"({"$and": [{"$or": [{"name": "Bob"}, {"name": "Carol"}]}, {"age": {"$gt": 30}}]})")),
      (Ids{3}));
}

TYPED_TEST(StoreConformance, FindRejectsUnknownOperatorsAndFields) {
  Service& people = this->seeded();
  Error op = error_of([&] { find(people, R"({"name": {"$regex": "A"}})"); });
  EXPECT_EQ(op.code(), ErrorCode::BadRequest);
  EXPECT_EQ(op.message(), "Invalid query parameter $regex");
  Error filter = error_of([&] { find(people, R"({"$where": "1"})"); });
  EXPECT_EQ(filter.message(), "Invalid filter value $where");
  Error field = error_of([&] { find(people, R"({"nickname": "x"})"); });
  EXPECT_EQ(field.code(), ErrorCode::BadRequest);
}

// ---- $sort, $select ----

TYPED_TEST(StoreConformance, SortByOneKeyPutsAbsentValuesFirst) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"$sort": {"age": 1}})")), (Ids{5, 2, 4, 1, 3}));
  EXPECT_EQ(ids(find(people, R"({"$sort": {"age": -1}})")), (Ids{3, 1, 2, 4, 5}));
}

TYPED_TEST(StoreConformance, SortByManyKeysInTheOrderGiven) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"$sort": {"age": 1, "name": -1}})")), (Ids{5, 4, 2, 1, 3}));
  EXPECT_EQ(ids(find(people, R"({"$sort": {"active": 1, "age": -1}})")), (Ids{2, 4, 3, 1, 5}));
}

TYPED_TEST(StoreConformance, SelectKeepsOnlyTheFieldsAndTheId) {
  Service& people = this->seeded();
  Json found = find(people, R"({"age": 25, "$select": ["name"]})");
  EXPECT_EQ(found, j(R"([{"id": 2, "name": "Bob"}, {"id": 4, "name": "dave"}])"));
}

// ---- pagination ----

PaginateOptions page_of(std::int64_t default_limit, std::int64_t max_limit) {
  PaginateOptions paginate;
  paginate.default_limit = default_limit;
  paginate.max_limit = max_limit;
  return paginate;
}

TYPED_TEST(StoreConformance, PaginatedFindReturnsTotalLimitSkipAndData) {
  StoreOptions options = people_options();
  options.paginate = page_of(2, 3);
  Service& people = this->seeded(options);
  Json page = find(people);
  EXPECT_EQ(page.at("total"), Json(5));
  EXPECT_EQ(page.at("limit"), Json(2));
  EXPECT_EQ(page.at("skip"), Json(0));
  EXPECT_EQ(ids(page), (Ids{1, 2}));

  Json second = find(people, R"({"$skip": 2, "$sort": {"id": 1}})");
  EXPECT_EQ(second.at("skip"), Json(2));
  EXPECT_EQ(ids(second), (Ids{3, 4}));

  Json filtered = find(people, R"({"age": 25, "$limit": 1})");
  EXPECT_EQ(filtered.at("total"), Json(2));  // matches before $skip/$limit
  EXPECT_EQ(ids(filtered), (Ids{2}));
}

TYPED_TEST(StoreConformance, PaginationClampsLimitToMax) {
  StoreOptions options = people_options();
  options.paginate = page_of(2, 3);
  Service& people = this->seeded(options);
  Json page = find(people, R"({"$limit": 100})");
  EXPECT_EQ(page.at("limit"), Json(3));
  EXPECT_EQ(ids(page), (Ids{1, 2, 3}));
}

TYPED_TEST(StoreConformance, LimitZeroCountsWithoutRecords) {
  StoreOptions options = people_options();
  options.paginate = page_of(2, 3);
  Service& people = this->seeded(options);
  EXPECT_EQ(find(people, R"({"$limit": 0})"), j(R"({"total": 5, "limit": 0, "skip": 0, "data": []})"));
}

TYPED_TEST(StoreConformance, ParamsPaginateOverridesTheServiceSetting) {
  StoreOptions options = people_options();
  options.paginate = page_of(2, 3);
  Service& people = this->seeded(options);
  PaginateOptions off;
  off.enabled = false;
  Json all = find(people, "{}", off);
  ASSERT_TRUE(all.is_array());
  EXPECT_EQ(ids(all), (Ids{1, 2, 3, 4, 5}));

  Service& plain = this->make(people_options(), "plain");
  create(plain, R"({"name": "A"})");
  Json page = find(plain, "{}", page_of(1, 1));
  EXPECT_EQ(page.at("total"), Json(1));
}

TYPED_TEST(StoreConformance, UnpaginatedFindAppliesLimitAndSkip) {
  Service& people = this->seeded();
  EXPECT_EQ(ids(find(people, R"({"$limit": 2, "$skip": 1})")), (Ids{2, 3}));
  EXPECT_EQ(ids(find(people, R"({"$skip": 3})")), (Ids{4, 5}));
  EXPECT_EQ(ids(find(people, R"({"$limit": 0})")), Ids{});
}

}  // namespace
}  // namespace plume::store::conformance
