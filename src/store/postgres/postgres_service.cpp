// The PostgreSQL store: the SQLite store's table layout and query compiler with PostgreSQL's
// dialect, every statement sent through the database's pool. Calls that need several statements
// (a page and its total, a multi create) send them as one pipeline: one round trip, and one
// transaction that an error rolls back whole.
#include "store/adapter_service.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/sql/sql_compiler.hpp"
#include "store/sql/table_layout.hpp"

#include <plume/core/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <unordered_set>

namespace plume::store {
namespace {
using postgres::PostgresConnection;
using postgres::Rows;
using postgres::ServerError;

// SQLSTATEs (PostgreSQL appendix A).
constexpr std::string_view kUniqueViolation = "23505";
constexpr std::string_view kNotNullViolation = "23502";
constexpr std::string_view kUndefinedTable = "42P01";

// What the service and its background table preparation share.
struct PostgresTable {
  PostgresTable(std::string table, const StoreOptions& options)
      : layout(std::move(table), options.id_field, options.id_type, options.schema),
        compiler(sql::SqlDialect::postgres(), layout) {}
  PostgresTable(const PostgresTable&) = delete;
  PostgresTable& operator=(const PostgresTable&) = delete;

  sql::TableLayout layout;
  sql::SqlCompiler compiler;  // refers to `layout`
  std::atomic<bool> ready = false;
};

Error translated(const ServerError& error, PostgresTable& table) {
  const std::string& state = error.sqlstate();
  if (state == kUniqueViolation) {
    // Unique indexes are named <table>_<field>_unique; the primary key is the id.
    std::string field = table.layout.id_field();
    const std::string& constraint = error.constraint();
    const std::string prefix = table.layout.table() + "_";
    const std::string suffix = "_unique";
    if (constraint.size() > prefix.size() + suffix.size() && constraint.starts_with(prefix) &&
        constraint.ends_with(suffix)) {
      field = constraint.substr(prefix.size(), constraint.size() - prefix.size() - suffix.size());
    }
    return unique_violation(field);
  }
  // Class 22 (data exception): a value the column's type cannot take.
  if (state.starts_with("22") || state == kNotNullViolation) {
    return bad_request(std::string("Invalid value: ") + error.what());
  }
  // The table was dropped behind the service's back: create it again on the next call.
  if (state == kUndefinedTable) table.ready = false;
  return general_error(std::string("Database error: ") + error.what() + " (SQLSTATE " + state + ")");
}

// Creates the table when absent and adds the columns a newer schema declares (never dropping
// any), moving values that older records kept in the JSON column into them; then the unique
// indexes. One transaction, under an advisory lock so that nodes starting together take turns.
Task<void> prepare_table(PostgresConnection& connection, std::shared_ptr<PostgresTable> table,
                         std::chrono::milliseconds timeout) {
  const sql::SqlCompiler& compiler = table->compiler;
  const sql::TableLayout& layout = table->layout;
  std::vector<sql::Statement> inspect{
      {"BEGIN", {}},
      {"SELECT pg_advisory_xact_lock(hashtext($1))", {Json("plume.table." + layout.table())}},
      {compiler.create_table(), {}},
      {sql::SqlDialect::postgres().table_columns_query(layout.table()), {}},
  };
  auto first = connection.execute(inspect, timeout);
  std::vector<Rows> found = co_await std::move(first);
  std::unordered_set<std::string> existing;
  for (const auto& row : found.back().rows) existing.insert(std::string(row.at(0).as_string()));

  std::vector<sql::Statement> changes;
  for (const sql::Column& column : layout.columns()) {
    if (existing.contains(column.name)) continue;
    changes.push_back({compiler.add_column(column), {}});
    changes.push_back(compiler.move_into_column(column));
  }
  for (std::string& index : compiler.create_unique_indexes()) changes.push_back({std::move(index), {}});
  changes.push_back({"COMMIT", {}});
  auto second = connection.execute(changes, timeout);
  co_await std::move(second);
}

Task<void> ensure_table(PostgresDatabase& database, std::shared_ptr<PostgresTable> table) {
  if (table->ready.load()) co_return;
  const std::chrono::milliseconds timeout = database.options().query_timeout;
  std::optional<Error> failure;
  try {
    auto op = database.with_connection([table, timeout](PostgresConnection& connection) {
      return prepare_table(connection, table, timeout);
    });
    co_await std::move(op);
    table->ready = true;
    co_return;
  } catch (const ServerError& error) {
    failure = general_error("Cannot create or update the table '" + table->layout.table() +
                            "' in PostgreSQL: " + error.what());
  }
  throw *failure;
}

// The first attempt, at start; a database that is down is no reason not to start, and the
// first call after it returns creates the table.
Task<void> prepare_at_start(PostgresDatabase& database, std::shared_ptr<PostgresTable> table) {
  try {
    auto op = ensure_table(database, table);
    co_await std::move(op);
  } catch (const std::exception& error) {
    spdlog::warn("event=postgres_table_deferred table={} database={} reason=\"{}\"", table->layout.table(),
                 database.display(), error.what());
  }
}

class PostgresService final : public AdapterService {
 public:
  PostgresService(std::shared_ptr<PostgresDatabase> database, std::string table, StoreOptions options)
      : AdapterService(std::move(options)),
        database_(std::move(database)),
        table_(std::make_shared<PostgresTable>(std::move(table), this->options())) {
    // Runs on the database's own thread, which the database joins before it goes away.
    boost::asio::co_spawn(database_->executor(), prepare_at_start(*database_, table_), boost::asio::detached);
  }

 protected:
  Task<FoundRecords> find_records(const Query& query, std::optional<std::int64_t> limit,
                                  bool count_total) override {
    std::vector<sql::Statement> statements;
    // The total and the page in one round trip: both statements in one pipeline.
    if (count_total) statements.push_back(compiler().count(query.where));
    statements.push_back(compiler().select(query.where, query.sort, limit, query.skip));
    auto op = run(std::move(statements));
    std::vector<Rows> rows = co_await std::move(op);
    FoundRecords found;
    if (count_total) found.total = rows.front().rows.at(0).at(0).to_number<std::int64_t>();
    found.records = records(rows.back());
    co_return found;
  }

  Task<std::optional<Json>> get_record(const Id& id, const Condition& where) override {
    std::vector<sql::Statement> statements{compiler().select(by_id(id, where), {}, 1, 0)};
    auto op = run(std::move(statements));
    std::vector<Json> found = records((co_await std::move(op)).front());
    if (found.empty()) co_return std::nullopt;
    co_return std::move(found.front());
  }

  Task<std::vector<Json>> create_records(std::vector<JsonObject> records) override {
    std::vector<sql::Statement> statements;
    std::vector<std::size_t> inserts;
    for (const JsonObject& record : records) {
      inserts.push_back(statements.size());
      statements.push_back(compiler().insert(record));
      if (layout().id_type() == IdType::Integer) {
        if (const Json* id = record.if_contains(layout().id_field()))
          statements.push_back(advance_ids_past(*id));
      }
    }
    auto op = run(std::move(statements));
    std::vector<Rows> rows = co_await std::move(op);
    std::vector<Json> created;
    for (std::size_t index : inserts) {
      for (Json& record : this->records(rows[index])) created.push_back(std::move(record));
    }
    co_return created;
  }

  Task<std::optional<Json>> update_record(const Id& id, JsonObject record, const Condition& where) override {
    std::vector<sql::Statement> statements{compiler().replace(id.to_json(), record, where)};
    auto op = run(std::move(statements));
    std::vector<Json> updated = records((co_await std::move(op)).front());
    if (updated.empty()) co_return std::nullopt;
    co_return std::move(updated.front());
  }

  Task<std::vector<Json>> patch_records(const std::optional<Id>& id, JsonObject data,
                                        const Condition& where) override {
    // One UPDATE for every match: fields outside the columns are merged into the JSONB column
    // by the server, and a failing row (a unique violation) leaves every record unchanged.
    std::vector<sql::Statement> statements{compiler().merge(data, id ? by_id(*id, where) : where)};
    auto op = run(std::move(statements));
    co_return in_id_order(records((co_await std::move(op)).front()));
  }

  Task<std::vector<Json>> remove_records(const std::optional<Id>& id, const Condition& where) override {
    std::vector<sql::Statement> statements{compiler().remove(id ? by_id(*id, where) : where)};
    auto op = run(std::move(statements));
    co_return in_id_order(records((co_await std::move(op)).front()));
  }

 private:
  const sql::TableLayout& layout() const { return table_->layout; }
  const sql::SqlCompiler& compiler() const { return table_->compiler; }

  Condition by_id(const Id& id, const Condition& where) const {
    return sql::id_condition(layout().id_field(), id.to_json(), where);
  }

  // A record created with its own integer id moves the id sequence past it, so that ids the
  // database assigns later do not collide with it (as SQLite's AUTOINCREMENT does).
  sql::Statement advance_ids_past(const Json& id) const {
    return {
        "SELECT setval(q.s, $1) FROM (SELECT pg_get_serial_sequence($2, $3)::regclass AS s) AS q "
        "WHERE $1 > coalesce(pg_sequence_last_value(q.s), 0)",
        {id, Json(sql::quote_identifier(layout().table())), Json(layout().id_field())}};
  }

  Task<std::vector<Rows>> run(std::vector<sql::Statement> statements) {
    auto ready = ensure_table(*database_, table_);
    co_await std::move(ready);
    std::optional<Error> failure;
    try {
      auto op = database_->execute(std::move(statements));
      co_return co_await std::move(op);
    } catch (const ServerError& error) {
      failure = translated(error, *table_);
    }
    throw *failure;
  }

  std::vector<Json> records(const Rows& rows) const {
    std::vector<Json> found;
    found.reserve(rows.rows.size());
    for (const auto& row : rows.rows) {
      JsonObject record;
      for (std::size_t c = 0; c < row.size(); ++c) layout().decode(rows.columns[c], row[c], record);
      found.emplace_back(std::move(record));
    }
    return found;
  }

  // RETURNING gives rows in no particular order; results list records in id order.
  std::vector<Json> in_id_order(std::vector<Json> records) const {
    const std::string& id_field = layout().id_field();
    std::stable_sort(records.begin(), records.end(), [&](const Json& a, const Json& b) {
      return json_compare(a.as_object().at(id_field), b.as_object().at(id_field)) < 0;
    });
    return records;
  }

  std::shared_ptr<PostgresDatabase> database_;
  std::shared_ptr<PostgresTable> table_;
};

}  // namespace

std::unique_ptr<Service> make_postgres_service(std::shared_ptr<PostgresDatabase> database, std::string table,
                                               StoreOptions options) {
  return std::make_unique<PostgresService>(std::move(database), std::move(table), std::move(options));
}

}  // namespace plume::store
