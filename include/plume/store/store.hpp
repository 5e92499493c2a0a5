// Stores are services over storage with Feathers' adapter semantics (pagination, multi, $select,
// NotFound for ids that do not match the query): in-memory, and SQLite, the embedded default.
#pragma once

#include <plume/core/params.hpp>
#include <plume/core/schema.hpp>
#include <plume/core/service.hpp>
#include <plume/core/task.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plume::store {

enum class IdType { Integer, String };

struct StoreOptions {
  std::string id_field = "id";
  // Integer ids are assigned in sequence (SQLite: INTEGER PRIMARY KEY AUTOINCREMENT); string ids
  // are taken from the record or generated (UUID v4) when absent.
  IdType id_type = IdType::Integer;
  // nullopt: find returns a bare array unless params.paginate asks for pages.
  std::optional<PaginateOptions> paginate;
  // Methods that accept many records: "create" (arrays), "patch" and "remove" (id null).
  std::vector<std::string> multi;
  Schema schema;
  // Property operators accepted beyond Feathers' defaults (SQL stores add "$like", "$ilike").
  std::vector<std::string> operators;
};

std::unique_ptr<Service> make_memory_service(StoreOptions options);

// A SQLite database file shared by the services stored in it. Opened in WAL mode; every SQLite
// call runs on the App's worker pool, never on an I/O thread.
class SqliteDatabase;
// Opens (creating when absent) the database at `path` (":memory:" for a private in-memory one).
// Throws std::runtime_error naming the path and SQLite's reason.
std::shared_ptr<SqliteDatabase> open_sqlite(const std::string& path, WorkerPool& workers);
// A service over `table`, created from the schema when absent; columns the schema adds later are
// added on start; fields outside the schema are kept in a JSON column.
std::unique_ptr<Service> make_sqlite_service(std::shared_ptr<SqliteDatabase> database, std::string table,
                                             StoreOptions options);

}  // namespace plume::store
