// PostgresDatabase is one PostgreSQL database shared by the services stored in it: a bounded
// pool of PostgresConnections living on the database's own I/O thread. Callers await it from any
// executor and resume on their own. A database that is down fails calls at once with 503
// Unavailable (new connections are tried with backoff), reports why for /readyz, and is used
// again as soon as a connection succeeds.
#pragma once

#include "store/postgres/postgres_connection.hpp"

#include <plume/store/store.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace plume::store {

class PostgresDatabase {
 public:
  PostgresDatabase(postgres::ConnectionSettings settings, PostgresOptions options);
  ~PostgresDatabase();
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  // The URL without its password, for logs and messages.
  const std::string& display() const noexcept { return settings_.display; }
  const PostgresOptions& options() const noexcept { return options_; }
  boost::asio::any_io_executor executor() { return context_->get_executor(); }

  // Runs the statements as one pipeline (one round trip, one implicit transaction) on a pooled
  // connection.
  Task<std::vector<postgres::Rows>> execute(std::vector<sql::Statement> statements);
  // Runs `work` on the database's thread with one connection for several round trips (an
  // explicit transaction across them). A transaction left open is rolled back.
  Task<void> with_connection(std::function<Task<void>(postgres::PostgresConnection&)> work);

  // Empty while connections work, else why not. Never blocks: when not ready, it starts a
  // connection attempt in the background (respecting the backoff).
  std::string readiness();

 private:
  using Connection = std::unique_ptr<postgres::PostgresConnection>;
  Task<Connection> acquire();
  void release(Connection connection);
  Task<std::vector<postgres::Rows>> run(std::vector<sql::Statement> statements);
  Task<void> run_with(std::function<Task<void>(postgres::PostgresConnection&)> work);
  void connected();
  void failed(const std::string& reason, bool back_off);
  void wake_one();
  void probe();

  postgres::ConnectionSettings settings_;
  PostgresOptions options_;

  // Touched only on the database's thread.
  std::vector<Connection> idle_;
  std::size_t open_ = 0;  // idle, in use and connecting
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_;
  bool probing_ = false;
  bool closing_ = false;

  // Read by readiness() on any thread.
  std::mutex status_mutex_;
  bool healthy_ = false;
  std::string status_;

  std::optional<boost::asio::io_context> context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace plume::store
