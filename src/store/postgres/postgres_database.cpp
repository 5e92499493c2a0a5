#include "store/postgres/postgres_database.hpp"

#include <plume/core/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace plume::store {
namespace asio = boost::asio;
using postgres::PostgresConnection;
using postgres::Rows;

namespace {

// After a failed connection attempt, calls fail at once for this long (doubling up to the
// maximum) instead of each waiting for a connection that will most likely fail too.
constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2'000};

}  // namespace

PostgresDatabase::PostgresDatabase(postgres::ConnectionSettings settings, PostgresOptions options)
    : settings_(std::move(settings)), options_(options), backoff_(kMinBackoff) {
  for (const auto& [key, value] : settings_.parameters) {
    // libpq's connect_timeout (seconds) is not applied by PQconnectPoll: the pool applies it.
    if (key == "connect_timeout" && !value.empty()) {
      try {
        options_.connect_timeout = std::chrono::seconds(std::max(1, std::stoi(value)));
      } catch (const std::exception&) {
        throw std::invalid_argument("connect_timeout must be a number of seconds, got '" + value + "'");
      }
    }
  }
  if (options_.pool_size == 0) options_.pool_size = 1;
  status_ = "not connected yet to " + settings_.display;
  context_.emplace(1);
  work_.emplace(context_->get_executor());
  thread_ = std::thread([this] { context_->run(); });
  asio::post(*context_, [this] { probe(); });
}

PostgresDatabase::~PostgresDatabase() {
  work_.reset();
  context_->stop();
  thread_.join();
  // No other thread touches the pool now. Idle connections go first; coroutines still holding
  // connections are destroyed with the context, and their connections with them.
  closing_ = true;
  idle_.clear();
  waiters_.clear();
  context_.reset();
}

void PostgresDatabase::connected() {
  std::lock_guard lock(status_mutex_);
  backoff_ = kMinBackoff;
  next_attempt_ = {};
  if (healthy_) return;
  healthy_ = true;
  status_.clear();
  spdlog::info("event=postgres_connected database={}", settings_.display);
}

void PostgresDatabase::failed(const std::string& reason, bool back_off) {
  std::lock_guard lock(status_mutex_);
  if (healthy_)
    spdlog::warn("event=postgres_unavailable database={} reason=\"{}\"", settings_.display, reason);
  healthy_ = false;
  status_ = reason.empty() ? "unavailable" : reason;
  if (back_off) {
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  }
}

void PostgresDatabase::wake_one() {
  if (waiters_.empty()) return;
  waiters_.front()->cancel();
  waiters_.pop_front();
}

Task<PostgresDatabase::Connection> PostgresDatabase::acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.query_timeout;
  for (;;) {
    if (closing_) throw unavailable("The PostgreSQL database " + settings_.display + " is closing");
    while (!idle_.empty()) {
      Connection connection = std::move(idle_.back());
      idle_.pop_back();
      connection->stop_watching();
      if (!connection->broken()) co_return connection;
      --open_;
    }
    if (open_ < options_.pool_size) {
      if (std::chrono::steady_clock::now() < next_attempt_) {
        std::lock_guard lock(status_mutex_);
        throw unavailable(status_ + ". Retry later");
      }
      ++open_;
      std::optional<Error> failure;
      try {
        auto attempt =
            PostgresConnection::connect(context_->get_executor(), settings_, options_.connect_timeout);
        Connection connection = co_await std::move(attempt);
        connected();
        co_return connection;
      } catch (const Error& error) {
        failure = error;
      }
      --open_;
      failed(failure->message(), true);
      wake_one();
      throw *failure;
    }
    // Every connection is in use: wait for one to come back.
    auto timer = std::make_shared<asio::steady_timer>(*context_, deadline);
    waiters_.push_back(timer);
    boost::system::error_code error;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, error));
    if (auto it = std::find(waiters_.begin(), waiters_.end(), timer); it != waiters_.end())
      waiters_.erase(it);
    if (!error) {
      throw unavailable("All " + std::to_string(options_.pool_size) + " connections to PostgreSQL at " +
                        settings_.display + " stayed busy for " +
                        std::to_string(options_.query_timeout.count()) + " ms. Retry later");
    }
  }
}

void PostgresDatabase::release(Connection connection) {
  if (closing_ || connection->broken() || connection->in_transaction()) {
    --open_;
    connection.reset();
    wake_one();
    return;
  }
  PostgresConnection* raw = connection.get();
  raw->watch_idle([this, raw] {
    auto it =
        std::find_if(idle_.begin(), idle_.end(), [&](const Connection& idle) { return idle.get() == raw; });
    if (it == idle_.end()) return;
    idle_.erase(it);  // destroys the connection
    --open_;
    failed("The PostgreSQL server at " + settings_.display + " closed the connection", false);
    wake_one();
    probe();
  });
  idle_.push_back(std::move(connection));
  wake_one();
}

Task<std::vector<Rows>> PostgresDatabase::run(std::vector<sql::Statement> statements) {
  Connection connection = co_await acquire();
  std::exception_ptr failure;
  std::vector<Rows> rows;
  try {
    auto op = connection->execute(statements, options_.query_timeout);
    rows = co_await std::move(op);
  } catch (const std::exception& error) {
    failure = std::current_exception();
    if (connection->broken()) failed(error.what(), false);
  }
  if (!failure) connected();
  release(std::move(connection));
  if (failure) std::rethrow_exception(failure);
  co_return rows;
}

Task<void> PostgresDatabase::run_with(std::function<Task<void>(PostgresConnection&)> work) {
  Connection connection = co_await acquire();
  std::exception_ptr failure;
  try {
    auto op = work(*connection);
    co_await std::move(op);
  } catch (const std::exception& error) {
    failure = std::current_exception();
    if (connection->broken()) failed(error.what(), false);
  }
  if (failure && !connection->broken() && connection->in_transaction()) {
    try {
      std::vector<sql::Statement> rollback{{"ROLLBACK", {}}};
      auto op = connection->execute(rollback, options_.query_timeout);
      co_await std::move(op);
    } catch (const std::exception&) {
      // release() closes a connection still in a transaction.
    }
  }
  release(std::move(connection));
  if (failure) std::rethrow_exception(failure);
}

Task<std::vector<Rows>> PostgresDatabase::execute(std::vector<sql::Statement> statements) {
  auto op = asio::co_spawn(*context_, run(std::move(statements)), asio::use_awaitable);
  co_return co_await std::move(op);
}

Task<void> PostgresDatabase::with_connection(std::function<Task<void>(PostgresConnection&)> work) {
  auto op = asio::co_spawn(*context_, run_with(std::move(work)), asio::use_awaitable);
  co_await std::move(op);
}

// A background check that a connection works; it is what brings readiness back when the
// database returns without any call arriving.
void PostgresDatabase::probe() {
  if (closing_ || probing_ || std::chrono::steady_clock::now() < next_attempt_) return;
  {
    std::lock_guard lock(status_mutex_);
    if (healthy_) return;
  }
  probing_ = true;
  asio::co_spawn(
      *context_,
      [this]() -> Task<void> {
        try {
          std::vector<sql::Statement> check{{"SELECT 1", {}}};
          auto op = run(std::move(check));
          co_await std::move(op);
        } catch (const std::exception&) {
          // Recorded as the status by run() or acquire().
        }
        probing_ = false;
      },
      asio::detached);
}

std::string PostgresDatabase::readiness() {
  std::string status;
  {
    std::lock_guard lock(status_mutex_);
    if (healthy_) return {};
    status = status_;
  }
  asio::post(*context_, [this] { probe(); });
  return status;
}

std::shared_ptr<PostgresDatabase> open_postgres(const std::string& url, PostgresOptions options) {
  return std::make_shared<PostgresDatabase>(postgres::parse_settings(url), options);
}

std::string postgres_readiness(PostgresDatabase& database) { return database.readiness(); }

}  // namespace plume::store
