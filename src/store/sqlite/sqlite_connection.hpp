// SqliteConnection is one SQLite connection, used by one worker thread at a time: configured for
// concurrent services (WAL, busy timeout, case-sensitive LIKE), with its prepared statements
// cached by SQL text, and SQLite errors turned into Feathers errors.
#pragma once

#include "store/sql/sql_compiler.hpp"
#include "store/sql/table_layout.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plume::store {

class SqliteConnection {
 public:
  // Opens (creating when absent) and configures; throws std::runtime_error naming the path and
  // SQLite's reason.
  explicit SqliteConnection(const std::string& path);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs a statement without bound values (DDL, BEGIN, COMMIT).
  void execute(const std::string& sql);
  // Runs a statement; `row` sees each result row.
  void query(const sql::Statement& statement, const std::function<void(sqlite3_stmt*)>& row);
  // Result rows decoded into records.
  std::vector<Json> records(const sql::Statement& statement, const sql::TableLayout& layout);
  // The first column of the first row as an integer (count(*)).
  std::int64_t scalar(const sql::Statement& statement);
  // The values of the column `name` over the result rows (PRAGMA table_info).
  std::vector<std::string> names(const std::string& sql);

 private:
  sqlite3_stmt* prepare(const std::string& sql);
  [[noreturn]] void fail(std::string_view sql);

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// BEGIN IMMEDIATE (writes) or BEGIN (a consistent read of count and page), rolled back unless
// committed. IMMEDIATE takes the write lock up front, so that the busy timeout applies instead of
// a deadlock between two readers upgrading.
class SqliteTransaction {
 public:
  enum class Mode { Read, Write };
  SqliteTransaction(SqliteConnection& connection, Mode mode);
  ~SqliteTransaction();
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  void commit();

 private:
  SqliteConnection& connection_;
  bool done_ = false;
};

}  // namespace plume::store
