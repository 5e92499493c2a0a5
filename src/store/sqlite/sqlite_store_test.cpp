// SQLite-specific behaviour: the table made from the schema, schema growth across restarts, how
// values are stored, and concurrent writers. The stored file is inspected with plain SQLite.
#include "store/store_test_support.hpp"

#include <plume/core/error.hpp>
#include <plume/core/json.hpp>
#include <plume/core/schema.hpp>
#include <plume/store/store.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace plume::store {
namespace {

using testing::error_of;
using testing::run;

Json j(std::string_view text) { return parse_json(text); }

using Rows = std::vector<std::vector<std::string>>;

// Rows of a query run with a separate, plain connection.
Rows inspect(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  Rows rows;
  char* message = nullptr;
  int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int columns, char** values, char**) {
        std::vector<std::string> row;
        for (int i = 0; i < columns; ++i) row.emplace_back(values[i] ? values[i] : "NULL");
        static_cast<Rows*>(out)->push_back(std::move(row));
        return 0;
      },
      &rows, &message);
  std::string error = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error(error);
  return rows;
}

StoreOptions options_for(std::string_view schema) {
  StoreOptions options;
  options.schema = Schema::from_json(j(schema));
  return options;
}

class SqliteStore : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             ("plume-store-" + std::to_string(::getpid()) + "-" + test->name() + ".db"))
                .string();
    remove_files();
  }
  void TearDown() override { remove_files(); }

  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }

  Json create(Service& service, std::string_view data) {
    Params params;
    return run(service.create(j(data), params));
  }
  Json get(Service& service, Id id) {
    Params params;
    return run(service.get(id, params));
  }
  Json find(Service& service, std::string_view query) {
    Params params;
    params.query = j(query);
    return run(service.find(params));
  }

  std::string path_;
  WorkerPool workers_{4};
};

TEST_F(SqliteStore, CreatesTheTableWithTypedColumnsFromTheSchema) {
  auto database = open_sqlite(path_, workers_);
  auto people = make_sqlite_service(database, "people", options_for(R"({
    "name": {"type": "string"}, "age": {"type": "integer"}, "score": {"type": "number"},
    "active": {"type": "boolean"}, "tags": {"type": "array"}, "meta": {"type": "object"},
    "email": {"type": "string", "unique": true}
  })"));
  Rows columns = inspect(path_, R"(SELECT name, type, pk FROM pragma_table_info('people'))");
  EXPECT_EQ(columns, (Rows{{"id", "INTEGER", "1"},
                           {"name", "TEXT", "0"},
                           {"age", "INTEGER", "0"},
                           {"score", "REAL", "0"},
                           {"active", "INTEGER", "0"},
                           {"tags", "TEXT", "0"},
                           {"meta", "TEXT", "0"},
                           {"email", "TEXT", "0"},
                           {"_extra", "TEXT", "0"}}));
  Rows indexes = inspect(path_, R"(SELECT name, "unique" FROM pragma_index_list('people'))");
  EXPECT_EQ(indexes, (Rows{{"people_email_unique", "1"}}));
  EXPECT_EQ(inspect(path_, "PRAGMA journal_mode"), (Rows{{"wal"}}));
}

TEST_F(SqliteStore, StringIdsMakeATextPrimaryKey) {
  auto database = open_sqlite(path_, workers_);
  StoreOptions options = options_for(R"({"title": {"type": "string"}})");
  options.id_field = "_id";
  options.id_type = IdType::String;
  auto notes = make_sqlite_service(database, "notes", options);
  Rows columns = inspect(path_, R"(SELECT name, type, pk FROM pragma_table_info('notes') WHERE pk = 1)");
  EXPECT_EQ(columns, (Rows{{"_id", "TEXT", "1"}}));
}

TEST_F(SqliteStore, ColumnsAddedByANewerSchemaAppearOnRestartWithDataKept) {
  {
    auto database = open_sqlite(path_, workers_);
    StoreOptions options = options_for(R"({"name": {"type": "string"}})");
    options.schema.set_additional_properties(true);
    auto people = make_sqlite_service(database, "people", options);
    create(*people, R"({"name": "Alice", "age": 30})");  // age is outside this schema: kept as JSON
  }
  auto database = open_sqlite(path_, workers_);
  auto people = make_sqlite_service(database, "people", options_for(R"({
    "name": {"type": "string"}, "age": {"type": "integer"}, "email": {"type": "string", "unique": true}
  })"));
  Rows columns = inspect(path_, R"(SELECT name FROM pragma_table_info('people'))");
  EXPECT_EQ(columns, (Rows{{"id"}, {"name"}, {"_extra"}, {"age"}, {"email"}}));
  Json alice = get(*people, Id(1));
  EXPECT_EQ(alice.at("name"), Json("Alice"));
  EXPECT_EQ(alice.at("age"), Json(30));
  // The value moved from the JSON column into the new column, where queries find it.
  EXPECT_EQ(inspect(path_, R"(SELECT age, _extra FROM people WHERE id = 1)"), (Rows{{"30", "{}"}}));
  EXPECT_EQ(find(*people, R"({"age": {"$gte": 30}})").as_array().size(), 1u);

  create(*people, R"({"name": "Bob", "age": 25, "email": "bob@example.com"})");
  EXPECT_EQ(inspect(path_, R"(SELECT age, email FROM people WHERE id = 2)"),
            (Rows{{"25", "bob@example.com"}}));
  Error duplicate = error_of([&] { create(*people, R"({"name": "Bobby", "email": "bob@example.com"})"); });
  EXPECT_EQ(duplicate.code(), ErrorCode::Conflict);
  EXPECT_EQ(duplicate.data(), j(R"({"field": "email"})"));
}

TEST_F(SqliteStore, FieldsOutsideTheSchemaRoundTripThroughTheJsonColumn) {
  auto database = open_sqlite(path_, workers_);
  StoreOptions options = options_for(R"({"name": {"type": "string"}})");
  options.schema.set_additional_properties(true);
  auto people = make_sqlite_service(database, "people", options);
  create(*people,
         R"({"name": "O'Brien \"quoted\"", "prefs": {"dark": true, "sizes": [1, 2]}, "nick": "ob"})");
  Rows stored = inspect(path_, R"(SELECT name, _extra FROM people)");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0][0], "O'Brien \"quoted\"");
  EXPECT_EQ(j(stored[0][1]), j(R"({"prefs": {"dark": true, "sizes": [1, 2]}, "nick": "ob"})"));
  Json record = get(*people, Id(1));
  EXPECT_EQ(record, j(R"({"id": 1, "name": "O'Brien \"quoted\"", "prefs": {"dark": true, "sizes": [1, 2]},
                         "nick": "ob"})"));
}

TEST_F(SqliteStore, BooleansAreStoredAsIntegersAndReadBackAsBooleans) {
  auto database = open_sqlite(path_, workers_);
  auto flags = make_sqlite_service(database, "flags", options_for(R"({"on": {"type": "boolean"}})"));
  create(*flags, R"({"on": true})");
  create(*flags, R"({"on": false})");
  EXPECT_EQ(inspect(path_, R"(SELECT typeof("on"), "on" FROM flags ORDER BY id)"),
            (Rows{{"integer", "1"}, {"integer", "0"}}));
  EXPECT_EQ(get(*flags, Id(1)).at("on"), Json(true));
  EXPECT_EQ(get(*flags, Id(2)).at("on"), Json(false));
  EXPECT_EQ(find(*flags, R"({"on": false})"), j(R"([{"id": 2, "on": false}])"));
}

TEST_F(SqliteStore, ServicesShareOneDatabaseFile) {
  auto database = open_sqlite(path_, workers_);
  auto a = make_sqlite_service(database, "alpha", options_for(R"({"n": {"type": "integer"}})"));
  auto b = make_sqlite_service(database, "beta", options_for(R"({"n": {"type": "integer"}})"));
  create(*a, R"({"n": 1})");
  create(*b, R"({"n": 2})");
  EXPECT_EQ(inspect(path_, "SELECT (SELECT n FROM alpha), (SELECT n FROM beta)"), (Rows{{"1", "2"}}));
}

TEST_F(SqliteStore, ConcurrentCreatesFromSeveralThreadsGetDistinctIds) {
  auto database = open_sqlite(path_, workers_);
  auto counters =
      make_sqlite_service(database, "counters", options_for(R"({"thread": {"type": "integer"}})"));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::int64_t>> ids(kThreads);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kPerThread; ++i) {
          JsonObject data;
          data["thread"] = t;
          Params params;
          ids[t].push_back(run(counters->create(Json(data), params)).at("id").as_int64());
        }
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<std::int64_t> distinct;
  for (const auto& list : ids) distinct.insert(list.begin(), list.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(inspect(path_, "SELECT count(*), min(id), max(id) FROM counters"), (Rows{{"100", "1", "100"}}));
}

// Every statement any connection runs is traced with the thread that runs it.
std::mutex traced_mutex;
std::set<std::thread::id> traced_threads;

int trace_statement(unsigned, void*, void*, void*) {
  std::lock_guard lock(traced_mutex);
  traced_threads.insert(std::this_thread::get_id());
  return 0;
}

int trace_connection(sqlite3* db, const char**, const struct sqlite3_api_routines*) {
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_statement, nullptr);
  return SQLITE_OK;
}

TEST_F(SqliteStore, NoStatementRunsOnTheCallingThread) {
  using Entry = void (*)();
  sqlite3_auto_extension(reinterpret_cast<Entry>(trace_connection));
  {
    auto database = open_sqlite(path_, workers_);
    auto people = make_sqlite_service(database, "people", options_for(R"({"name": {"type": "string"}})"));
    create(*people, R"({"name": "A"})");
    find(*people, R"({"name": "A"})");
    get(*people, Id(1));
  }
  sqlite3_cancel_auto_extension(reinterpret_cast<Entry>(trace_connection));
  std::lock_guard lock(traced_mutex);
  EXPECT_FALSE(traced_threads.empty());
  EXPECT_FALSE(traced_threads.contains(std::this_thread::get_id()));
}

TEST_F(SqliteStore, OpeningAnUnreachablePathNamesThePath) {
  const std::string bad = "/nonexistent-plume-dir/sub/people.db";
  try {
    open_sqlite(bad, workers_);
    FAIL() << "open_sqlite accepted " << bad;
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(bad), std::string::npos) << error.what();
  }
}

TEST_F(SqliteStore, AFileThatIsNotADatabaseIsRefusedAtOpen) {
  {
    std::FILE* file = std::fopen(path_.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs("this is not a database, just text long enough to have a header of sorts......", file);
    std::fclose(file);
  }
  EXPECT_THROW(open_sqlite(path_, workers_), std::runtime_error);
}

}  // namespace
}  // namespace plume::store
