// Stores are services over storage with Feathers' adapter semantics (pagination, multi, $select,
// NotFound for ids that do not match the query): in-memory, SQLite, the embedded default, and
// PostgreSQL, the single source of truth when many nodes share data.
#pragma once

#include <plume/core/params.hpp>
#include <plume/core/schema.hpp>
#include <plume/core/service.hpp>
#include <plume/core/task.hpp>

#include <chrono>
#include <cstddef>
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

struct PostgresOptions {
  // Connections at most; calls beyond them wait for one (up to query_timeout).
  std::size_t pool_size = 8;
  // A connection attempt that has not finished by then fails the call with 503 Unavailable
  // instead of waiting for TCP's own timeout. `?connect_timeout=S` in the URL overrides it.
  std::chrono::milliseconds connect_timeout{5'000};
  // A statement the server has not answered by then fails with 503, and its connection is closed.
  std::chrono::milliseconds query_timeout{30'000};
};

// A PostgreSQL database shared by the services stored in it: a bounded pool of asynchronous
// connections (libpq's non-blocking API on the database's own I/O thread), prepared statements,
// pipelining, and reconnection with backoff after the database goes away.
class PostgresDatabase;
// Parses `url` (postgres://user:password@host:port/db?param=value, libpq's URI syntax) without
// connecting: a node starts even while its database is down, and tables are created once a
// connection succeeds. Throws std::invalid_argument for a URL libpq cannot parse.
std::shared_ptr<PostgresDatabase> open_postgres(const std::string& url, PostgresOptions options = {});
// For /readyz: empty while the database answers, else why not. Never blocks; a database that is
// down is tried again in the background.
std::string postgres_readiness(PostgresDatabase& database);
// A service over `table`, created from the schema when absent (schema types as BIGINT, DOUBLE
// PRECISION, BOOLEAN, TEXT, JSONB); columns the schema adds later are added on start; fields
// outside the schema are kept in a JSONB column. Unique fields answer 409 Conflict; a database
// that is down answers 503 Unavailable.
std::unique_ptr<Service> make_postgres_service(std::shared_ptr<PostgresDatabase> database, std::string table,
                                               StoreOptions options);

}  // namespace plume::store
