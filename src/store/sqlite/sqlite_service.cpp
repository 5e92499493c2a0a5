// The SQLite store: a table made from the schema, queries compiled to SQL with bound values, and
// every statement run on the worker pool through the shared database's connections.
#include "store/adapter_service.hpp"
#include "store/sql/sql_compiler.hpp"
#include "store/sql/table_layout.hpp"
#include "store/sqlite/sqlite_database.hpp"

#include <algorithm>
#include <unordered_set>

namespace plume::store {
namespace {

class SqliteService final : public AdapterService {
 public:
  SqliteService(std::shared_ptr<SqliteDatabase> database, std::string table, StoreOptions options)
      : AdapterService(std::move(options)),
        database_(std::move(database)),
        layout_(std::move(table), this->options().id_field, this->options().id_type, this->options().schema),
        compiler_(sql::SqlDialect::sqlite(), layout_) {
    database_->run_blocking([this](SqliteConnection& connection) { prepare_table(connection); });
  }

 protected:
  Task<FoundRecords> find_records(const Query& query, std::optional<std::int64_t> limit,
                                  bool count_total) override {
    FoundRecords found;
    sql::Statement select = compiler_.select(query.where, query.sort, limit, query.skip);
    std::optional<sql::Statement> count;
    if (count_total) count = compiler_.count(query.where);
    co_await database_->run([&](SqliteConnection& connection) {
      if (!count) {
        found.records = connection.records(select, layout_);
        return;
      }
      // The total and the page come from the same snapshot.
      SqliteTransaction read(connection, SqliteTransaction::Mode::Read);
      found.total = connection.scalar(*count);
      found.records = connection.records(select, layout_);
      read.commit();
    });
    co_return found;
  }

  Task<std::optional<Json>> get_record(const Id& id, const Condition& where) override {
    sql::Statement select = compiler_.select(by_id(id, where), {}, 1, 0);
    std::vector<Json> found;
    co_await database_->run(
        [&](SqliteConnection& connection) { found = connection.records(select, layout_); });
    if (found.empty()) co_return std::nullopt;
    co_return std::move(found.front());
  }

  Task<std::vector<Json>> create_records(std::vector<JsonObject> records) override {
    std::vector<sql::Statement> inserts;
    inserts.reserve(records.size());
    for (const JsonObject& record : records) inserts.push_back(compiler_.insert(record));
    std::vector<Json> created;
    co_await database_->run([&](SqliteConnection& connection) {
      if (inserts.size() == 1) {
        created = connection.records(inserts.front(), layout_);
        return;
      }
      SqliteTransaction write(connection, SqliteTransaction::Mode::Write);
      for (const sql::Statement& insert : inserts) {
        for (Json& record : connection.records(insert, layout_)) created.push_back(std::move(record));
      }
      write.commit();
    });
    co_return created;
  }

  Task<std::optional<Json>> update_record(const Id& id, JsonObject record, const Condition& where) override {
    sql::Statement replace = compiler_.replace(id.to_json(), record, where);
    std::vector<Json> updated;
    co_await database_->run(
        [&](SqliteConnection& connection) { updated = connection.records(replace, layout_); });
    if (updated.empty()) co_return std::nullopt;
    co_return std::move(updated.front());
  }

  Task<std::vector<Json>> patch_records(const std::optional<Id>& id, JsonObject data,
                                        const Condition& where) override {
    sql::Statement select = compiler_.select(id ? by_id(*id, where) : where, {}, std::nullopt, 0);
    std::vector<Json> patched;
    co_await database_->run([&](SqliteConnection& connection) {
      // Fields outside the columns live in one JSON value, so records are merged here and
      // written back whole, all in one transaction.
      SqliteTransaction write(connection, SqliteTransaction::Mode::Write);
      for (Json& current : connection.records(select, layout_)) {
        JsonObject merged = std::move(current.as_object());
        for (const auto& [field, value] : data) merged[field] = value;
        Json record_id = merged.at(layout_.id_field());
        for (Json& record : connection.records(compiler_.replace(record_id, merged, Condition{}), layout_)) {
          patched.push_back(std::move(record));
        }
      }
      write.commit();
    });
    co_return patched;
  }

  Task<std::vector<Json>> remove_records(const std::optional<Id>& id, const Condition& where) override {
    sql::Statement remove = compiler_.remove(id ? by_id(*id, where) : where);
    std::vector<Json> removed;
    co_await database_->run(
        [&](SqliteConnection& connection) { removed = connection.records(remove, layout_); });
    // RETURNING gives rows in no particular order; results list records in id order.
    const std::string& id_field = layout_.id_field();
    std::stable_sort(removed.begin(), removed.end(), [&](const Json& a, const Json& b) {
      return json_compare(a.as_object().at(id_field), b.as_object().at(id_field)) < 0;
    });
    co_return removed;
  }

 private:
  Condition by_id(const Id& id, const Condition& where) const {
    return sql::id_condition(layout_.id_field(), id.to_json(), where);
  }

  // Creates the table when absent and adds the columns a newer schema declares (never dropping
  // any), moving values that older records kept in the JSON column into them; then the unique
  // indexes. All or nothing.
  void prepare_table(SqliteConnection& connection) {
    SqliteTransaction write(connection, SqliteTransaction::Mode::Write);
    connection.execute(compiler_.create_table());
    std::vector<std::string> names =
        connection.names(sql::SqlDialect::sqlite().table_columns_query(layout_.table()));
    std::unordered_set<std::string> existing(names.begin(), names.end());
    for (const sql::Column& column : layout_.columns()) {
      if (existing.contains(column.name)) continue;
      connection.execute(compiler_.add_column(column));
      connection.query(compiler_.move_into_column(column), nullptr);
    }
    for (const std::string& index : compiler_.create_unique_indexes()) connection.execute(index);
    write.commit();
  }

  std::shared_ptr<SqliteDatabase> database_;
  sql::TableLayout layout_;
  sql::SqlCompiler compiler_;
};

}  // namespace

std::unique_ptr<Service> make_sqlite_service(std::shared_ptr<SqliteDatabase> database, std::string table,
                                             StoreOptions options) {
  return std::make_unique<SqliteService>(std::move(database), std::move(table), std::move(options));
}

}  // namespace plume::store
