// SqliteDatabase is one SQLite database shared by the services stored in it: a small set of
// connections handed out to worker threads. Every SQLite call runs on the App's worker pool;
// none runs on an I/O thread.
#pragma once

#include "store/sqlite/sqlite_connection.hpp"

#include <plume/store/store.hpp>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace plume::store {

class SqliteDatabase {
 public:
  SqliteDatabase(std::string path, WorkerPool& workers);
  ~SqliteDatabase();

  const std::string& path() const noexcept { return path_; }

  // Runs `work` on a worker thread with a connection of its own.
  Task<void> run(std::function<void(SqliteConnection&)> work);
  // The same, waiting on the calling thread: for start-up (opening, creating tables) only.
  void run_blocking(std::function<void(SqliteConnection&)> work);

 private:
  class Lease;
  std::unique_ptr<SqliteConnection> acquire();
  void release(std::unique_ptr<SqliteConnection> connection);

  std::string path_;
  WorkerPool& workers_;
  // A private in-memory database exists only in its one connection.
  std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_;
  std::size_t opened_ = 0;
};

}  // namespace plume::store
