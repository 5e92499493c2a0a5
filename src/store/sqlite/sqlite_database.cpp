#include "store/sqlite/sqlite_database.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <exception>

namespace plume::store {
namespace {

// Writers take turns anyway (one WAL writer at a time); a few connections let reads overlap.
constexpr std::size_t kMaxConnections = 4;

bool is_private_memory(const std::string& path) {
  return path.empty() || path == ":memory:" || path.find("mode=memory") != std::string::npos;
}

}  // namespace

class SqliteDatabase::Lease {
 public:
  explicit Lease(SqliteDatabase& database) : database_(database), connection_(database.acquire()) {}
  ~Lease() { database_.release(std::move(connection_)); }
  SqliteConnection& connection() { return *connection_; }

 private:
  SqliteDatabase& database_;
  std::unique_ptr<SqliteConnection> connection_;
};

SqliteDatabase::SqliteDatabase(std::string path, WorkerPool& workers)
    : path_(std::move(path)),
      workers_(workers),
      max_connections_(
          is_private_memory(path_) ? 1 : std::clamp<std::size_t>(workers.size(), 1, kMaxConnections)) {}

SqliteDatabase::~SqliteDatabase() = default;

std::unique_ptr<SqliteConnection> SqliteDatabase::acquire() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    if (opened_ < max_connections_) {
      ++opened_;
      lock.unlock();
      try {
        return std::make_unique<SqliteConnection>(path_);
      } catch (...) {
        lock.lock();
        --opened_;
        available_.notify_one();
        throw;
      }
    }
    available_.wait(lock);
  }
}

void SqliteDatabase::release(std::unique_ptr<SqliteConnection> connection) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  available_.notify_one();
}

Task<void> SqliteDatabase::run(std::function<void(SqliteConnection&)> work) {
  co_await workers_.run([this, &work] {
    Lease lease(*this);
    work(lease.connection());
  });
}

void SqliteDatabase::run_blocking(std::function<void(SqliteConnection&)> work) {
  // One context per thread, kept: the worker that posts the completion may still be returning
  // from that post when run() ends here, so the context must outlive this call.
  thread_local boost::asio::io_context context;
  context.restart();
  auto guard = boost::asio::make_work_guard(context);
  std::exception_ptr failure;
  boost::asio::co_spawn(context, run(std::move(work)), [&](std::exception_ptr error) {
    failure = error;
    guard.reset();
  });
  context.run();
  if (failure) std::rethrow_exception(failure);
}

std::shared_ptr<SqliteDatabase> open_sqlite(const std::string& path, WorkerPool& workers) {
  auto database = std::make_shared<SqliteDatabase>(path, workers);
  // Open the first connection now, so that a bad path fails at start.
  database->run_blocking([](SqliteConnection&) {});
  return database;
}

}  // namespace plume::store
