// Conformance of every store: update, patch, remove, multi rules, unique fields, ids, extra fields.
#include "store/store_conformance.hpp"

#include <atomic>
#include <set>
#include <thread>

namespace plume::store::conformance {
namespace {

template <class Backend>
class StoreWriteConformance : public StoreFixture<Backend> {};
TYPED_TEST_SUITE(StoreWriteConformance, Backends, BackendNames);

// ---- update ----

TYPED_TEST(StoreWriteConformance, UpdateReplacesTheRecordAndKeepsItsId) {
  Service& people = this->seeded();
  Json updated = update(people, Id("1"), R"({"id": 77, "name": "Alicia"})");
  EXPECT_EQ(updated.at("id"), Json(1));
  EXPECT_EQ(updated.at("name"), Json("Alicia"));
  EXPECT_EQ(updated.at("active"), Json(true));  // defaults apply again
  Json stored = get(people, Id(1));
  EXPECT_FALSE(stored.as_object().contains("age"));
  EXPECT_FALSE(stored.as_object().contains("email"));
  EXPECT_EQ(ids(find(people)), (Ids{1, 2, 3, 4, 5}));
}

TYPED_TEST(StoreWriteConformance, UpdateOfManyIsBadRequest) {
  Service& people = this->seeded();
  Error error = error_of([&] { update(people, std::nullopt, R"({"name": "X"})"); });
  EXPECT_EQ(error.code(), ErrorCode::BadRequest);
  EXPECT_EQ(error.message(), "You can not replace multiple instances. Did you mean 'patch'?");
}

TYPED_TEST(StoreWriteConformance, UpdateOfAMissingOrNonMatchingRecordIsNotFound) {
  Service& people = this->seeded();
  Error missing = error_of([&] { update(people, Id(42), R"({"name": "X"})"); });
  EXPECT_EQ(missing.code(), ErrorCode::NotFound);
  EXPECT_EQ(missing.message(), "No record found for id '42'");
  Error filtered = error_of([&] { update(people, Id(1), R"({"name": "X"})", R"({"age": 99})"); });
  EXPECT_EQ(filtered.message(), "No record found for id '1'");
  EXPECT_EQ(get(people, Id(1)).at("name"), Json("Alice"));
}

TYPED_TEST(StoreWriteConformance, UpdateValidatesTheWholeRecord) {
  Service& people = this->seeded();
  Error error = error_of([&] { update(people, Id(1), R"({"age": 3})"); });
  EXPECT_EQ(error.message(), "Validation failed");
  EXPECT_EQ(get(people, Id(1)).at("name"), Json("Alice"));
}

// ---- patch ----

TYPED_TEST(StoreWriteConformance, PatchMergesTheGivenFields) {
  Service& people = this->seeded();
  Json patched = patch(people, Id(1), R"({"age": 31, "id": 9})");
  EXPECT_EQ(patched.at("id"), Json(1));
  EXPECT_EQ(patched.at("age"), Json(31));
  EXPECT_EQ(patched.at("name"), Json("Alice"));
  EXPECT_EQ(patched.at("tags"), j(R"(["a"])"));
  EXPECT_EQ(get(people, Id(1)).at("age"), Json(31));
}

TYPED_TEST(StoreWriteConformance, PatchValidatesOnlyTheGivenFields) {
  Service& people = this->seeded();
  Error error = error_of([&] { patch(people, Id(1), R"({"age": "old"})"); });
  EXPECT_EQ(error.message(), "Validation failed");
  EXPECT_EQ(get(people, Id(1)).at("age"), Json(30));
}

TYPED_TEST(StoreWriteConformance, PatchWithANonMatchingQueryIsNotFound) {
  Service& people = this->seeded();
  Error error = error_of([&] { patch(people, Id(2), R"({"age": 1})", R"({"active": true})"); });
  EXPECT_EQ(error.code(), ErrorCode::NotFound);
  EXPECT_EQ(error.message(), "No record found for id '2'");
}

TYPED_TEST(StoreWriteConformance, PatchOfManyNeedsMulti) {
  Service& people = this->seeded();
  Error error = error_of([&] { patch(people, std::nullopt, R"({"age": 1})", R"({"age": 25})"); });
  EXPECT_EQ(error.code(), ErrorCode::MethodNotAllowed);
  EXPECT_EQ(error.message(), "Can not patch multiple entries");
  EXPECT_EQ(ids(find(people, R"({"age": 1})")), Ids{});
}

TYPED_TEST(StoreWriteConformance, PatchOfManyPatchesEveryMatchIgnoringLimit) {
  Service& people = this->seeded(with_multi(people_options()));
  Json patched = patch(people, std::nullopt, R"({"score": 1})", R"({"age": 25, "$limit": 1})");
  ASSERT_TRUE(patched.is_array());
  EXPECT_EQ(ids(patched), (Ids{2, 4}));
  EXPECT_EQ(ids(find(people, R"({"score": 1})")), (Ids{2, 4}));
  EXPECT_EQ(patched.at(1).at("name"), Json("dave"));
}

// ---- remove ----

TYPED_TEST(StoreWriteConformance, RemoveReturnsTheRemovedRecord) {
  Service& people = this->seeded();
  Json removed = remove(people, Id("3"));
  EXPECT_EQ(removed.at("name"), Json("Carol"));
  EXPECT_EQ(error_of([&] { get(people, Id(3)); }).code(), ErrorCode::NotFound);
  Error again = error_of([&] { remove(people, Id(3)); });
  EXPECT_EQ(again.message(), "No record found for id '3'");
}

TYPED_TEST(StoreWriteConformance, RemoveWithANonMatchingQueryKeepsTheRecord) {
  Service& people = this->seeded();
  Error error = error_of([&] { remove(people, Id(1), R"({"name": "Bob"})"); });
  EXPECT_EQ(error.message(), "No record found for id '1'");
  EXPECT_EQ(get(people, Id(1)).at("name"), Json("Alice"));
}

TYPED_TEST(StoreWriteConformance, RemoveOfManyNeedsMulti) {
  Service& people = this->seeded();
  Error error = error_of([&] { remove(people, std::nullopt, R"({"age": 25})"); });
  EXPECT_EQ(error.code(), ErrorCode::MethodNotAllowed);
  EXPECT_EQ(error.message(), "Can not remove multiple entries");
  EXPECT_EQ(ids(find(people)), (Ids{1, 2, 3, 4, 5}));

  Service& multi = this->seeded(with_multi(people_options()), "multi_people");
  Json removed = remove(multi, std::nullopt, R"({"age": 25, "$select": ["name"]})");
  EXPECT_EQ(removed, j(R"([{"id": 2, "name": "Bob"}, {"id": 4, "name": "dave"}])"));
  EXPECT_EQ(ids(find(multi)), (Ids{1, 3, 5}));
}

// ---- unique fields ----

TYPED_TEST(StoreWriteConformance, UniqueFieldsRejectDuplicatesWithConflict) {
  Service& people = this->seeded();
  Error created = error_of([&] { create(people, R"({"name": "Imposter", "email": "alice@example.com"})"); });
  EXPECT_EQ(created.code(), ErrorCode::Conflict);
  EXPECT_EQ(created.status(), 409);
  EXPECT_NE(created.message().find("email"), std::string::npos) << created.message();

  Error patched = error_of([&] { patch(people, Id(2), R"({"email": "alice@example.com"})"); });
  EXPECT_EQ(patched.code(), ErrorCode::Conflict);
  EXPECT_EQ(get(people, Id(2)).at("email"), Json("bob@example.com"));

  Error updated = error_of([&] { update(people, Id(3), R"({"name": "C", "email": "bob@example.com"})"); });
  EXPECT_EQ(updated.code(), ErrorCode::Conflict);

  // A record keeps its own value; absent values never collide.
  EXPECT_EQ(patch(people, Id(1), R"({"email": "alice@example.com", "age": 1})").at("age"), Json(1));
  create(people, R"({"name": "NoMail1"})");
  create(people, R"({"name": "NoMail2"})");
  EXPECT_EQ(find(people).as_array().size(), 7u);
}

TYPED_TEST(StoreWriteConformance, ConflictInAMultiCreateStoresNothing) {
  Service& people = this->make(with_multi(people_options()));
  Error error = error_of([&] {
    create(people,
           R"([{"name": "A", "email": "same@example.com"}, {"name": "B", "email": "same@example.com"}])");
  });
  EXPECT_EQ(error.code(), ErrorCode::Conflict);
  EXPECT_EQ(ids(find(people)), Ids{});
}

// ---- string ids, extra fields, no schema ----

StoreOptions string_id_options() {
  StoreOptions options = people_options();
  options.id_field = "_id";
  options.id_type = IdType::String;
  return options;
}

TYPED_TEST(StoreWriteConformance, StringIdsAreKeptOrGeneratedAsUuids) {
  Service& people = this->make(string_id_options(), "string_people");
  Json given = create(people, R"({"_id": "alice", "name": "Alice"})");
  EXPECT_EQ(given.at("_id"), Json("alice"));
  Json generated = create(people, R"({"name": "Bob"})");
  const std::string id(generated.at("_id").as_string());
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');                                          // version 4
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);  // RFC 4122 variant

  EXPECT_EQ(get(people, Id("alice")).at("name"), Json("Alice"));
  EXPECT_EQ(get(people, Id(id)).at("name"), Json("Bob"));
  EXPECT_EQ(patch(people, Id("alice"), R"({"age": 5})").at("age"), Json(5));
  Error taken = error_of([&] { create(people, R"({"_id": "alice", "name": "Other"})"); });
  EXPECT_EQ(taken.code(), ErrorCode::Conflict);
  Error missing = error_of([&] { get(people, Id("nobody")); });
  EXPECT_EQ(missing.message(), "No record found for id 'nobody'");
  EXPECT_EQ(get(people, Id("alice"), R"({"$select": ["age"]})"), j(R"({"_id": "alice", "age": 5})"));
}

TYPED_TEST(StoreWriteConformance, FieldsOutsideTheSchemaAreRefusedAndNothingIsStored) {
  Service& people = this->seeded();
  const Json expected = j(R"({"name":"BadRequest","message":"validation failed","code":400,)"
                          R"("className":"bad-request","data":[{"instancePath":"",)"
                          R"("schemaPath":"#/additionalProperties","keyword":"additionalProperties",)"
                          R"("params":{"additionalProperty":"isAdmin"},)"
                          R"("message":"must NOT have additional properties"}]})");
  EXPECT_EQ(error_of([&] { create(people, R"({"name": "Eve", "isAdmin": true})"); }).to_json(), expected);
  EXPECT_EQ(error_of([&] { update(people, Id(1), R"({"name": "Eve", "isAdmin": true})"); }).to_json(),
            expected);
  EXPECT_EQ(error_of([&] { patch(people, Id(1), R"({"isAdmin": true})"); }).to_json(), expected);
  EXPECT_EQ(ids(find(people)), (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(get(people, Id(1)).at("name"), Json("Alice"));
  EXPECT_FALSE(get(people, Id(1)).as_object().contains("isAdmin"));
}

TYPED_TEST(StoreWriteConformance, FieldsOutsideTheSchemaAreKeptWhenItAllowsThem) {
  StoreOptions options = people_options();
  options.schema.set_additional_properties(true);
  Service& people = this->make(options);
  Json created = create(people, R"({"name": "Alice", "nickname": "Al", "prefs": {"dark": true}, "n": 2.5})");
  EXPECT_EQ(created.at("nickname"), Json("Al"));
  Json stored = get(people, Id(1));
  EXPECT_EQ(stored.at("nickname"), Json("Al"));
  EXPECT_EQ(stored.at("prefs"), j(R"({"dark": true})"));
  EXPECT_TRUE(json_equal(stored.at("n"), Json(2.5)));
  Json patched = patch(people, Id(1), R"({"nickname": "Ali"})");
  EXPECT_EQ(patched.at("nickname"), Json("Ali"));
  EXPECT_EQ(patched.at("prefs"), j(R"({"dark": true})"));
}

TYPED_TEST(StoreWriteConformance, WithoutASchemaAnyFieldCanBeQueriedAndSorted) {
  StoreOptions options;
  options.multi = {"patch"};
  Service& notes = this->make(options, "notes");
  create(notes, R"({"title": "b", "rank": 2, "done": false})");
  create(notes, R"({"title": "a", "rank": 10, "done": true})");
  create(notes, R"({"title": "c", "rank": 5})");
  EXPECT_EQ(ids(find(notes, R"({"rank": {"$gt": 3}})")), (Ids{2, 3}));
  EXPECT_EQ(ids(find(notes, R"({"done": true})")), (Ids{2}));
  EXPECT_EQ(ids(find(notes, R"({"done": {"$ne": true}})")), (Ids{1, 3}));
  EXPECT_EQ(ids(find(notes, R"({"$sort": {"title": -1}})")), (Ids{3, 1, 2}));
  EXPECT_EQ(ids(find(notes, R"({"rank": {"$in": [2, 5]}, "$sort": {"rank": -1}})")), (Ids{3, 1}));
  EXPECT_EQ(ids(patch(notes, std::nullopt, R"({"done": true})", R"({"done": {"$ne": true}})")), (Ids{1, 3}));
  EXPECT_EQ(get(notes, Id(3)).at("done"), Json(true));
}

TYPED_TEST(StoreWriteConformance, ConcurrentCreatesFromSeveralThreadsGetDistinctIds) {
  Service& people = this->make();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::int64_t>> created(kThreads);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kPerThread; ++i) {
          created[t].push_back(create(people, R"({"name": "N"})").at("id").as_int64());
          find(people, R"({"name": "N", "$limit": 3})");
        }
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<std::int64_t> distinct;
  for (const auto& list : created) distinct.insert(list.begin(), list.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(*distinct.rbegin(), kThreads * kPerThread);
  EXPECT_EQ(find(people).as_array().size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TYPED_TEST(StoreWriteConformance, SetupRegistersTheSchemaForQueryCoercion) {
  App app;
  StoreOptions options = people_options();
  ServiceEntry& entry = app.use("people", this->backend_.make(options, "registered"));
  ASSERT_NE(entry.schema(), nullptr);
  EXPECT_NE(entry.schema()->field("age"), nullptr);
  EXPECT_EQ(entry.schema()->field("age")->type, FieldType::Integer);
}

TYPED_TEST(StoreWriteConformance, QueryStringIdsAreCoercedToTheStoresIdType) {
  App app;
  ServiceEntry& entry = app.use("people", this->backend_.make(people_options(), "coerced"));
  Params params;
  params.query = parse_json(R"({"id": {"$in": ["1", "2"]}, "age": "30"})");
  entry.schema()->coerce_query(params.query);
  EXPECT_EQ(params.query, parse_json(R"({"id": {"$in": [1, 2]}, "age": 30})"));

  StoreOptions strings = people_options();
  strings.id_type = IdType::String;
  ServiceEntry& named = app.use("named", this->backend_.make(strings, "named"));
  Params by_name;
  by_name.query = parse_json(R"({"id": "7"})");
  named.schema()->coerce_query(by_name.query);
  EXPECT_EQ(by_name.query, parse_json(R"({"id": "7"})"));
}

}  // namespace
}  // namespace plume::store::conformance
