// PostgresConnection is one libpq connection driven by Asio: connected with PQconnectStartParams
// and PQconnectPoll, statements sent in pipeline mode (libpq 14+) with prepared statements cached
// per connection, results read with PQconsumeInput/PQisBusy/PQgetResult as the socket becomes
// readable. No libpq call on it ever blocks: the socket is non-blocking and host names are
// resolved by Asio before libpq sees them. It is used from one thread (the database's) at a time.
#pragma once

#include "store/sql/sql_compiler.hpp"

#include <plume/core/json.hpp>
#include <plume/core/task.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace plume::store::postgres {

// A statement's result rows: column names, and values converted by column type (integers,
// floating point, booleans, json/jsonb parsed, anything else as text; SQL NULL as null).
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<Json>> rows;
};

// The server refused a statement (the connection is still usable): SQLSTATE, constraint and
// message as PostgreSQL reports them.
class ServerError : public std::runtime_error {
 public:
  ServerError(std::string sqlstate, std::string constraint, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)), constraint_(std::move(constraint)) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  const std::string& constraint() const noexcept { return constraint_; }

 private:
  std::string sqlstate_;
  std::string constraint_;
};

// Connection parameters from a postgres:// URL (libpq's own URI syntax, parsed by libpq).
struct ConnectionSettings {
  std::vector<std::pair<std::string, std::string>> parameters;  // libpq keywords and values
  std::string host;                                             // empty: libpq's default socket
  std::string display;                                          // the URL without its password
};
// Throws std::invalid_argument naming the problem when libpq cannot parse `url`.
ConnectionSettings parse_settings(const std::string& url);

class PostgresConnection {
 public:
  // Connects and enters pipeline mode. Throws plume::Error Unavailable (with the server's or the
  // system's reason) when the server cannot be reached, refuses, or does not finish within
  // `timeout`.
  static Task<std::unique_ptr<PostgresConnection>> connect(boost::asio::any_io_executor executor,
                                                           const ConnectionSettings& settings,
                                                           std::chrono::milliseconds timeout);
  ~PostgresConnection();
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  // Sends the statements as one pipeline ending in one Sync: one round trip, and one implicit
  // transaction unless the statements open their own (an error rolls every one back). Returns
  // each statement's rows. Throws ServerError when the server refuses one, plume::Error
  // Unavailable when the connection is lost or the server does not answer within `timeout`
  // (the connection is then broken()).
  Task<std::vector<Rows>> execute(std::span<const sql::Statement> statements,
                                  std::chrono::milliseconds timeout);

  // True once the connection is lost or was abandoned mid-pipeline: it must be closed.
  bool broken() const noexcept { return broken_; }
  // True when a transaction is open (BEGIN without COMMIT, or one that failed).
  bool in_transaction() const noexcept;

  // While the connection sits idle in the pool, notices the server closing it (a restart,
  // pg_terminate_backend) and calls `on_closed` once; stop_watching() before using it again.
  void watch_idle(std::function<void()> on_closed);
  void stop_watching();

 private:
  PostgresConnection(boost::asio::any_io_executor executor, PGconn* connection);
  class Deadline;
  // Wraps the current PQsocket (it changes when libpq tries the next address).
  void track_socket();
  Task<void> wait_readable(Deadline& deadline);
  Task<void> flush(Deadline& deadline);
  [[noreturn]] void lost(const std::string& what);
  std::string libpq_error() const;

  boost::asio::any_io_executor executor_;
  PGconn* connection_;
  boost::asio::posix::stream_descriptor socket_;
  int socket_fd_ = -1;
  boost::asio::steady_timer timer_;
  std::uint64_t generation_ = 0;
  bool timed_out_ = false;
  bool broken_ = false;
  bool watching_ = false;
  std::function<void()> on_closed_;
  std::unordered_map<std::string, std::string> prepared_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // SQL text and parameter types -> name
};

}  // namespace plume::store::postgres
