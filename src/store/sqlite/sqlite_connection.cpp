#include "store/sqlite/sqlite_connection.hpp"

#include "store/adapter_service.hpp"

#include <plume/core/error.hpp>

#include <stdexcept>

namespace plume::store {
namespace {

// Statements are cached by SQL text; queries with lists of many lengths make many texts, so the
// cache starts over past this many.
constexpr std::size_t kMaxCachedStatements = 256;
constexpr int kBusyTimeoutMs = 5000;

void bind_value(sqlite3_stmt* statement, int index, const Json& value) {
  int rc = SQLITE_OK;
  switch (value.kind()) {
    case boost::json::kind::null:
      rc = sqlite3_bind_null(statement, index);
      break;
    case boost::json::kind::bool_:
      rc = sqlite3_bind_int(statement, index, value.as_bool() ? 1 : 0);  // booleans are stored as 0/1
      break;
    case boost::json::kind::int64:
      rc = sqlite3_bind_int64(statement, index, value.as_int64());
      break;
    case boost::json::kind::uint64:
      rc = sqlite3_bind_int64(statement, index, static_cast<sqlite3_int64>(value.as_uint64()));
      break;
    case boost::json::kind::double_:
      rc = sqlite3_bind_double(statement, index, value.as_double());
      break;
    case boost::json::kind::string: {
      const auto& text = value.as_string();
      rc = sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      break;
    }
    default: {
      std::string text = to_json_text(value);
      rc = sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
  }
  if (rc != SQLITE_OK)
    throw general_error(std::string("Database error: cannot bind a value: ") + sqlite3_errstr(rc));
}

Json column_value(sqlite3_stmt* statement, int index) {
  switch (sqlite3_column_type(statement, index)) {
    case SQLITE_INTEGER:
      return Json(static_cast<std::int64_t>(sqlite3_column_int64(statement, index)));
    case SQLITE_FLOAT:
      return Json(sqlite3_column_double(statement, index));
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(statement, index));
      return Json(std::string_view(data ? data : "",
                                   static_cast<std::size_t>(sqlite3_column_bytes(statement, index))));
    }
    default:
      return Json(nullptr);
  }
}

// Puts a cached statement back in its initial state however the caller leaves.
class StatementReset {
 public:
  explicit StatementReset(sqlite3_stmt* statement) : statement_(statement) {}
  ~StatementReset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

 private:
  sqlite3_stmt* statement_;
};

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  auto refuse = [&](const std::string& reason) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("Cannot open SQLite database '" + path + "': " + reason);
  };
  if (rc != SQLITE_OK) refuse(db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  // WAL lets readers proceed while one connection writes; NORMAL sync is safe with WAL.
  // case_sensitive_like makes LIKE ($like) case-sensitive; $ilike lowers both sides.
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                             "PRAGMA foreign_keys = ON", "PRAGMA case_sensitive_like = ON"}) {
    char* message = nullptr;
    if (sqlite3_exec(db_, pragma, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string reason = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      refuse(reason);
    }
  }
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close(db_);
}

void SqliteConnection::fail(std::string_view sql) {
  const int code = sqlite3_extended_errcode(db_);
  std::string message = sqlite3_errmsg(db_);
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    // "UNIQUE constraint failed: table.column"
    auto dot = message.rfind('.');
    throw unique_violation(dot == std::string::npos ? message : message.substr(dot + 1));
  }
  if ((code & 0xFF) == SQLITE_CONSTRAINT) throw bad_request(message);
  if ((code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED) {
    throw unavailable("Database is busy: " + message);
  }
  throw general_error("Database error: " + message);
}

sqlite3_stmt* SqliteConnection::prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  if (statements_.size() >= kMaxCachedStatements) {
    for (auto& [text, statement] : statements_) sqlite3_finalize(statement);
    statements_.clear();
  }
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement, nullptr) != SQLITE_OK) {
    fail(sql);
  }
  statements_.emplace(sql, statement);
  return statement;
}

void SqliteConnection::query(const sql::Statement& statement, const std::function<void(sqlite3_stmt*)>& row) {
  sqlite3_stmt* prepared = prepare(statement.sql);
  StatementReset reset(prepared);
  for (std::size_t i = 0; i < statement.values.size(); ++i) {
    bind_value(prepared, static_cast<int>(i + 1), statement.values[i]);
  }
  for (;;) {
    int rc = sqlite3_step(prepared);
    if (rc == SQLITE_DONE) return;
    if (rc != SQLITE_ROW) fail(statement.sql);
    if (row) row(prepared);
  }
}

void SqliteConnection::execute(const std::string& sql) { query(sql::Statement{sql, {}}, nullptr); }

std::vector<Json> SqliteConnection::records(const sql::Statement& statement, const sql::TableLayout& layout) {
  std::vector<Json> found;
  query(statement, [&](sqlite3_stmt* row) {
    JsonObject record;
    const int columns = sqlite3_column_count(row);
    for (int i = 0; i < columns; ++i)
      layout.decode(sqlite3_column_name(row, i), column_value(row, i), record);
    found.emplace_back(std::move(record));
  });
  return found;
}

std::int64_t SqliteConnection::scalar(const sql::Statement& statement) {
  std::int64_t value = 0;
  query(statement, [&](sqlite3_stmt* row) { value = sqlite3_column_int64(row, 0); });
  return value;
}

std::vector<std::string> SqliteConnection::names(const std::string& sql) {
  std::vector<std::string> found;
  query(sql::Statement{sql, {}}, [&](sqlite3_stmt* row) {
    for (int i = 0; i < sqlite3_column_count(row); ++i) {
      if (std::string_view(sqlite3_column_name(row, i)) == "name") {
        found.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(row, i)));
      }
    }
  });
  return found;
}

SqliteTransaction::SqliteTransaction(SqliteConnection& connection, Mode mode) : connection_(connection) {
  connection_.execute(mode == Mode::Write ? "BEGIN IMMEDIATE" : "BEGIN");
}

SqliteTransaction::~SqliteTransaction() {
  if (done_) return;
  try {
    connection_.execute("ROLLBACK");
  } catch (...) {
    // The statement that failed may already have rolled the transaction back.
  }
}

void SqliteTransaction::commit() {
  connection_.execute("COMMIT");
  done_ = true;
}

}  // namespace plume::store
