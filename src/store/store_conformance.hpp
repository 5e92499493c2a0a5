// The store conformance table's fixture: the same Feathers adapter behaviour is checked against
// every store (store_conformance_*_test.cpp), since what a client sees must not depend on where
// the records live.
#pragma once

#include "store/store_test_support.hpp"
#include "testing/postgres_server.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>
#include <plume/core/json.hpp>
#include <plume/core/schema.hpp>
#include <plume/store/store.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace plume::store::conformance {

using store::testing::error_of;
using store::testing::run;

inline Json j(std::string_view text) { return parse_json(text); }

inline Schema people_schema() {
  return Schema::from_json(j(R"({
    "name": {"type": "string", "required": true},
    "age": {"type": "integer"},
    "score": {"type": "number"},
    "active": {"type": "boolean", "default": true},
    "email": {"type": "string", "unique": true},
    "tags": {"type": "array"},
    "meta": {"type": "object"}
  })"));
}

inline StoreOptions people_options() {
  StoreOptions options;
  options.schema = people_schema();
  options.operators = {"$like", "$ilike"};
  return options;
}

class MemoryBackend {
 public:
  std::unique_ptr<Service> make(StoreOptions options, const std::string&) {
    return make_memory_service(std::move(options));
  }
};

class SqliteBackend {
 public:
  std::unique_ptr<Service> make(StoreOptions options, const std::string& table) {
    return make_sqlite_service(database_, table, std::move(options));
  }

 private:
  WorkerPool workers_{2};
  std::shared_ptr<SqliteDatabase> database_ = open_sqlite(":memory:", workers_);
};

// A database of its own per test, on one PostgreSQL 15 server per test process.
class PostgresBackend {
 public:
  std::unique_ptr<Service> make(StoreOptions options, const std::string& table) {
    return make_postgres_service(database_, table, std::move(options));
  }

 private:
  std::shared_ptr<PostgresDatabase> database_ =
      open_postgres(plume::testing::PostgresServer::shared().create_database());
};

template <class Backend>
class StoreFixture : public ::testing::Test {
 protected:
  Service& make(StoreOptions options = people_options(), const std::string& table = "people") {
    services_.push_back(backend_.make(std::move(options), table));
    return *services_.back();
  }

  // Five people: ids 1..5. Eve has no age; dave is lower-case for $like tests.
  Service& seeded(StoreOptions options = people_options(), const std::string& table = "people") {
    Service& people = make(std::move(options), table);
    for (const char* person : {
             R"({"name": "Alice", "age": 30, "score": 9.5, "email": "alice@example.com", "tags": ["a"]})",
             R"({"name": "Bob", "age": 25, "score": 7, "active": false, "email": "bob@example.com"})",
             R"({"name": "Carol", "age": 35, "meta": {"team": "red"}})",
             R"({"name": "dave", "age": 25, "active": false})",
             R"({"name": "Eve"})",
         }) {
      Params params;
      run(people.create(j(person), params));
    }
    return people;
  }

  Backend backend_;
  std::vector<std::unique_ptr<Service>> services_;
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend, PostgresBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    if (std::is_same_v<T, PostgresBackend>) return "Postgres";
    return std::is_same_v<T, MemoryBackend> ? "Memory" : "Sqlite";
  }
};

inline Params with_query(std::string_view query) {
  Params params;
  params.query = j(query);
  return params;
}

inline Json find(Service& service, std::string_view query = "{}",
                 std::optional<PaginateOptions> paginate = std::nullopt) {
  Params params = with_query(query);
  params.paginate = paginate;
  return run(service.find(params));
}

inline Json get(Service& service, Id id, std::string_view query = "{}") {
  Params params = with_query(query);
  return run(service.get(id, params));
}

inline Json create(Service& service, std::string_view data, std::string_view query = "{}") {
  Params params = with_query(query);
  return run(service.create(j(data), params));
}

inline Json update(Service& service, NullableId id, std::string_view data, std::string_view query = "{}") {
  Params params = with_query(query);
  return run(service.update(id, j(data), params));
}

inline Json patch(Service& service, NullableId id, std::string_view data, std::string_view query = "{}") {
  Params params = with_query(query);
  return run(service.patch(id, j(data), params));
}

inline Json remove(Service& service, NullableId id, std::string_view query = "{}") {
  Params params = with_query(query);
  return run(service.remove(id, params));
}

// The ids of a result array (or of a page's data), in order.
inline std::vector<std::int64_t> ids(const Json& result) {
  const JsonArray& records = result.is_object() ? result.at("data").as_array() : result.as_array();
  std::vector<std::int64_t> found;
  for (const Json& record : records) found.push_back(record.at("id").to_number<std::int64_t>());
  return found;
}

using Ids = std::vector<std::int64_t>;

inline StoreOptions with_multi(StoreOptions options) {
  options.multi = {"create", "patch", "remove"};
  return options;
}

}  // namespace plume::store::conformance
