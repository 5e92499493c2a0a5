// What the PostgreSQL store adds to the conformance table: column types, the JSONB column,
// conflicts, tables that grow with the schema, multi patch as one transaction, and the database
// going away and coming back. Every test runs against a real PostgreSQL 15.
#include "store/store_test_support.hpp"
#include "testing/postgres_server.hpp"

#include <plume/core/error.hpp>
#include <plume/core/json.hpp>
#include <plume/core/schema.hpp>
#include <plume/store/store.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace plume::store {
namespace {
using plume::testing::PostgresServer;
using testing::error_of;
using testing::run;

Json j(std::string_view text) { return parse_json(text); }

StoreOptions options_with(std::string_view schema) {
  StoreOptions options;
  options.schema = Schema::from_json(j(schema));
  options.operators = {"$like", "$ilike"};
  options.multi = {"create", "patch", "remove"};
  return options;
}

Json create(Service& service, std::string_view data) {
  Params params;
  return run(service.create(j(data), params));
}

Json find(Service& service, std::string_view query) {
  Params params;
  params.query = j(query);
  return run(service.find(params));
}

Json get(Service& service, Id id) {
  Params params;
  return run(service.get(id, params));
}

Json patch(Service& service, NullableId id, std::string_view data, std::string_view query = "{}") {
  Params params;
  params.query = j(query);
  return run(service.patch(id, j(data), params));
}

std::vector<std::int64_t> ids(const Json& records) {
  std::vector<std::int64_t> found;
  for (const Json& record : records.as_array()) found.push_back(record.at("id").as_int64());
  return found;
}

// Waits (generously: a loaded CI machine) until `condition` holds.
template <class Condition>
bool eventually(Condition condition, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class PostgresStore : public ::testing::Test {
 protected:
  PostgresServer& server_ = PostgresServer::shared();
  std::string url_ = server_.create_database();
  std::shared_ptr<PostgresDatabase> database_ = open_postgres(url_);

  std::string psql(const std::string& sql) {
    std::string output = server_.psql(sql, url_.substr(url_.rfind('/') + 1));
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return output;
  }
};

TEST_F(PostgresStore, SchemaTypesBecomePostgresColumnTypes) {
  auto things = make_postgres_service(database_, "things", options_with(R"({
    "count": {"type": "integer"}, "ratio": {"type": "number"}, "done": {"type": "boolean"},
    "title": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
    "meta": {"type": "object"}, "tags": {"type": "array"}})"));
  create(*things, R"({"title": "x"})");
  EXPECT_EQ(psql("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) "
                 "FROM information_schema.columns WHERE table_name = 'things'"),
            "id:bigint,count:bigint,ratio:double precision,done:boolean,title:text,at:text,meta:jsonb,"
            "tags:jsonb,_extra:jsonb");
}

TEST_F(PostgresStore, ValuesRoundTripExactly) {
  auto things = make_postgres_service(database_, "things", options_with(R"({
    "count": {"type": "integer"}, "ratio": {"type": "number"}, "done": {"type": "boolean"},
    "title": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
    "meta": {"type": "object"}, "tags": {"type": "array"}})"));
  const Json sent = j(R"({"count": 9007199254740993, "ratio": 0.1, "done": false,
    "title": "quotes ' \" and unicode \u00e9\u4e2d \ud83d\ude00", "at": "2024-02-29T23:59:59.123Z",
    "meta": {"nested": {"list": [1, 2.5, null, true, "s"]}, "empty": {}}, "tags": []})");
  Json created = create(*things, to_json_text(sent));
  Json stored = get(*things, created.at("id").as_int64());
  for (const auto& [field, value] : sent.as_object()) {
    EXPECT_TRUE(json_equal(stored.at(field), value)) << field << ": " << to_json_text(stored.at(field));
  }
  EXPECT_EQ(stored.at("count").as_int64(), 9007199254740993);  // beyond a double's integers
  Json tiny = create(*things, R"({"ratio": 1e-300})");
  EXPECT_EQ(get(*things, tiny.at("id").as_int64()).at("ratio").as_double(), 1e-300);
  Json big = create(*things, R"({"ratio": 1.7976931348623157e308})");
  EXPECT_EQ(get(*things, big.at("id").as_int64()).at("ratio").as_double(), 1.7976931348623157e308);
}

TEST_F(PostgresStore, FieldsOutsideTheSchemaLiveInTheJsonbColumnAndQueryByType) {
  StoreOptions options = options_with("{}");  // no schema: every field may be queried
  auto notes = make_postgres_service(database_, "notes", options);
  create(*notes, R"({"title": "a", "rank": 9, "owner": {"name": "Ann"}, "label": "Red"})");
  create(*notes, R"({"title": "b", "rank": 10, "label": "blue"})");
  create(*notes, R"({"title": "c", "rank": "11", "label": null})");
  EXPECT_EQ(psql("SELECT _extra->'owner'->>'name' FROM notes WHERE id = 1"), "Ann");
  EXPECT_EQ(psql("SELECT jsonb_typeof(_extra->'rank') FROM notes ORDER BY id"), "number\nnumber\nstring");
  // Numbers compare as numbers (10 > 9), not as text ("10" < "9"); the string "11" is no number.
  EXPECT_EQ(ids(find(*notes, R"({"rank": {"$gt": 9}})")), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(ids(find(*notes, R"({"rank": {"$in": [9, "11"]}})")), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(ids(find(*notes, R"({"label": null})")), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(ids(find(*notes, R"({"label": {"$ilike": "r%"}})")), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(ids(find(*notes, R"({"$sort": {"rank": -1}, "rank": {"$in": [9, 10]}})")),
            (std::vector<std::int64_t>{2, 1}));
}

TEST_F(PostgresStore, ILikeIgnoresCaseAndLikeDoesNot) {
  auto people = make_postgres_service(database_, "people", options_with(R"({"name": {"type": "string"}})"));
  create(*people, R"({"name": "Anna"})");
  create(*people, R"({"name": "ANDREW"})");
  create(*people, R"({"name": "bob"})");
  EXPECT_EQ(ids(find(*people, R"({"name": {"$ilike": "an%"}})")), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(ids(find(*people, R"({"name": {"$like": "An%"}})")), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(ids(find(*people, R"({"name": {"$ilike": "%O%"}})")), (std::vector<std::int64_t>{3}));
}

TEST_F(PostgresStore, UniqueViolationIsConflictNamingTheField) {
  auto users = make_postgres_service(database_, "users",
                                     options_with(R"({"email": {"type": "string", "unique": true}})"));
  create(*users, R"({"email": "a@example.com"})");
  Error error = error_of([&] { create(*users, R"({"email": "a@example.com"})"); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.data(), j(R"({"field": "email"})"));
  Error id = error_of([&] { create(*users, R"({"id": 1, "email": "b@example.com"})"); });
  EXPECT_EQ(id.status(), 409);
  EXPECT_EQ(id.data(), j(R"({"field": "id"})"));
}

TEST_F(PostgresStore, GivenIdsMoveTheSequencePastThem) {
  auto items = make_postgres_service(database_, "items", options_with("{}"));
  EXPECT_EQ(create(*items, R"({"id": 10})").at("id"), Json(10));
  EXPECT_EQ(create(*items, "{}").at("id"), Json(11));
  EXPECT_EQ(create(*items, R"({"id": 5})").at("id"), Json(5));
  EXPECT_EQ(create(*items, "{}").at("id"), Json(12));
}

TEST_F(PostgresStore, NewSchemaColumnsAreAddedOnStartAndTakeTheirValues) {
  {
    StoreOptions options = options_with(R"({"name": {"type": "string"}})");
    options.schema.set_additional_properties(true);
    auto v1 = make_postgres_service(database_, "people", options);
    create(*v1, R"({"name": "Ann", "age": 41, "city": "Oslo"})");
    create(*v1, R"({"name": "Bo"})");
  }
  auto v2 = make_postgres_service(database_, "people", options_with(R"({
    "name": {"type": "string"}, "age": {"type": "integer"}, "city": {"type": "string"}})"));
  EXPECT_EQ(ids(find(*v2, R"({"age": {"$gt": 40}})")), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(psql("SELECT age || ',' || city || ',' || coalesce(_extra::text, '{}') FROM people WHERE id = 1"),
            "41,Oslo,{}");
  EXPECT_EQ(get(*v2, Id(1)), j(R"({"id": 1, "name": "Ann", "age": 41, "city": "Oslo"})"));
  // A later schema without `city` drops nothing: the column and its values stay.
  auto v3 = make_postgres_service(database_, "people", options_with(R"({"name": {"type": "string"}})"));
  EXPECT_EQ(get(*v3, Id(1)).at("city"), Json("Oslo"));
  EXPECT_EQ(psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'people'"), "5");
}

TEST_F(PostgresStore, MultiPatchIsOneTransaction) {
  StoreOptions options = options_with(R"({
    "email": {"type": "string", "unique": true}, "team": {"type": "string"}})");
  options.schema.set_additional_properties(true);
  auto users = make_postgres_service(database_, "users", options);
  create(*users, R"({"email": "a@example.com", "team": "red"})");
  create(*users, R"({"email": "b@example.com", "team": "red"})");
  create(*users, R"({"email": "c@example.com", "team": "blue"})");
  // The second row patched violates uniqueness: the first one is not patched either.
  Error error = error_of([&] { patch(*users, std::nullopt, R"({"email": "same@example.com", "x": 1})"); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(psql("SELECT string_agg(email, ',' ORDER BY id) FROM users"),
            "a@example.com,b@example.com,c@example.com");
  EXPECT_EQ(psql("SELECT count(*) FROM users WHERE _extra IS NOT NULL"), "0");

  Json patched = patch(*users, std::nullopt, R"({"team": "green", "x": 2})", R"({"team": "red"})");
  EXPECT_EQ(ids(patched), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(patched.at(0).at("x"), Json(2));
  EXPECT_EQ(get(*users, Id(3)).at("team"), Json("blue"));
}

TEST_F(PostgresStore, PaginatedFindCountsAndPagesTogether) {
  StoreOptions options = options_with(R"({"n": {"type": "integer"}})");
  options.paginate = PaginateOptions{};
  options.paginate->default_limit = 2;
  options.paginate->max_limit = 10;
  auto numbers = make_postgres_service(database_, "numbers", options);
  for (int n = 0; n < 7; ++n) create(*numbers, "{\"n\": " + std::to_string(n) + "}");
  Json page = find(*numbers, R"({"n": {"$gte": 2}, "$skip": 4})");
  EXPECT_EQ(page.at("total"), Json(5));
  EXPECT_EQ(page.at("data").as_array().size(), 1u);
  EXPECT_EQ(find(*numbers, R"({"$skip": 50})").at("total"), Json(7));
}

// A server of its own: these tests stop it.
class PostgresOutage : public ::testing::Test {
 protected:
  PostgresServer server_;
  PostgresOptions options_ = [] {
    PostgresOptions options;
    options.connect_timeout = std::chrono::seconds(2);
    return options;
  }();
};

TEST_F(PostgresOutage, DatabaseDownAnswersUnavailableAndRecoversAfterRestart) {
  auto database = open_postgres(server_.url(), options_);
  auto items = make_postgres_service(database, "items", options_with(R"({"name": {"type": "string"}})"));
  create(*items, R"({"name": "before"})");
  ASSERT_TRUE(eventually([&] { return postgres_readiness(*database).empty(); }));

  server_.stop();
  Error error = error_of([&] { find(*items, "{}"); });
  EXPECT_EQ(error.status(), 503) << error.message();
  // While it is down every call fails with 503, never hangs, and readiness says why.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(error_of([&] { create(*items, R"({"name": "x"})"); }).status(), 503);
  EXPECT_TRUE(eventually([&] { return !postgres_readiness(*database).empty(); }));
  EXPECT_NE(postgres_readiness(*database).find("PostgreSQL"), std::string::npos)
      << postgres_readiness(*database);

  server_.start();
  EXPECT_TRUE(eventually([&] { return postgres_readiness(*database).empty(); }));
  EXPECT_TRUE(eventually([&] {
    try {
      create(*items, R"({"name": "after"})");
      return true;
    } catch (const Error&) {
      return false;
    }
  }));
  EXPECT_EQ(find(*items, R"({"name": "before"})").as_array().size(), 1u);
}

TEST_F(PostgresOutage, ServicesStartWhileTheDatabaseIsDownAndCreateTablesLater) {
  server_.stop();
  auto database = open_postgres(server_.url(), options_);
  auto items = make_postgres_service(database, "late", options_with(R"({"name": {"type": "string"}})"));
  EXPECT_EQ(error_of([&] { find(*items, "{}"); }).status(), 503);
  EXPECT_FALSE(postgres_readiness(*database).empty());

  server_.start();
  EXPECT_TRUE(eventually([&] {
    try {
      create(*items, R"({"name": "first"})");
      return true;
    } catch (const Error&) {
      return false;
    }
  }));
  EXPECT_EQ(server_.psql("SELECT name FROM late"), "first\n");
}

TEST_F(PostgresOutage, ConnectionsTheServerClosesAreReplaced) {
  auto database = open_postgres(server_.url(), options_);
  auto items = make_postgres_service(database, "items", options_with(R"({"name": {"type": "string"}})"));
  create(*items, R"({"name": "a"})");
  server_.psql(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' "
      "AND pid <> pg_backend_pid()");
  // The pool notices idle connections closing and opens new ones; at worst one call sees 503.
  EXPECT_TRUE(eventually([&] {
    try {
      return find(*items, "{}").as_array().size() == 1u;
    } catch (const Error& error) {
      EXPECT_EQ(error.status(), 503);
      return false;
    }
  }));
}

TEST(PostgresUrl, AnUnparsableUrlIsRejectedWithLibpqsReason) {
  EXPECT_THROW(open_postgres("postgres://host:notaport:/db?sslmode"), std::invalid_argument);
  EXPECT_THROW(open_postgres("postgres://h/db?connect_timeout=soon"), std::invalid_argument);
}

}  // namespace
}  // namespace plume::store
