// A real PostgreSQL 15 for tests: initdb into a temporary directory, the server started as a
// child process on a free loopback port (and a unix socket in that directory), a database made
// for the test, stop and restart on the same port, everything removed at the end. PostgreSQL
// refuses to run as root, so under root the server runs as the `postgres` system user (or
// `nobody`) with the directory handed to it. psql() runs the stock client against it.
#pragma once

#include <pwd.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/child_process.hpp"

namespace plume::testing {

class PostgresServer {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
  static constexpr const char* kUser = "plume";
  static constexpr const char* kDatabase = "plume";

  PostgresServer() {
    if (::access(binary("postgres").c_str(), X_OK) != 0) {
      throw std::runtime_error(std::string(kBinDir) +
                               "/postgres not found: these tests need PostgreSQL 15 "
                               "(scripts/setup.sh installs it, or apt-get install postgresql-15)");
    }
    choose_server_user();
    char dir_template[] = "/tmp/plume-pg-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      throw std::runtime_error(std::string("cannot create a temporary directory for PostgreSQL: ") +
                               std::strerror(errno));
    }
    dir_ = dir_template;
    try {
      if (server_user_ && ::chown(dir_.c_str(), server_user_->first, server_user_->second) != 0) {
        throw std::runtime_error("cannot hand " + dir_ + " to the PostgreSQL user: " + std::strerror(errno));
      }
      run_command({binary("initdb"), "-D", data_dir(), "-U", kUser, "--auth=trust", "--encoding=UTF8",
                   "--locale=C", "--no-sync", "--no-instructions"},
                  server_user_);
      // A free port is only free until someone else takes it: try a few.
      std::string failure;
      for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_loopback_port();
        try {
          start();
          failure.clear();
          break;
        } catch (const std::exception& error) {
          failure = error.what();
        }
      }
      if (!failure.empty()) throw std::runtime_error(failure);
      psql("CREATE DATABASE " + std::string(kDatabase), "postgres");
    } catch (...) {
      stop();
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw;
    }
  }

  ~PostgresServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // One server per test process, started on first use, for tests that each make a database.
  static PostgresServer& shared() {
    static PostgresServer server;
    return server;
  }

  std::uint16_t port() const noexcept { return port_; }
  const std::string& socket_dir() const noexcept { return dir_; }
  bool running() const noexcept { return process_.running(); }
  std::string url(const std::string& database = kDatabase) const {
    return "postgres://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }

  // A new empty database (a unique name) and its URL: isolation for a test.
  std::string create_database() {
    static std::atomic<int> counter = 0;
    const std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    psql("CREATE DATABASE " + name, "postgres");
    return url(name);
  }

  // Starts (again) on the same port and waits until it accepts connections.
  void start() {
    if (process_.running()) return;
    const std::string log_path = dir_ + "/postgres.log";
    // Durability is not what these tests check: fsync off keeps a loaded CI machine fast.
    process_.start({binary("postgres"), "-D", data_dir(), "-p", std::to_string(port_), "-k", dir_, "-c",
                    "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                    "full_page_writes=off", "-c", "max_connections=200"},
                   log_path, server_user_);
    wait_until_ready(log_path);
  }

  // Fast shutdown (SIGINT): open sessions are terminated, as in a restart under load.
  void stop() { signal_and_wait(SIGINT); }
  void restart() {
    stop();
    start();
  }

  // Runs `psql -c sql` against `database` over the unix socket and returns its unaligned,
  // tuples-only output; throws with the output when psql fails.
  std::string psql(const std::string& sql, const std::string& database = kDatabase) const {
    return run_command({binary("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir_, "-p",
                        std::to_string(port_), "-U", kUser, "-d", database, "-c", sql});
  }

  static std::string binary(const std::string& name) { return std::string(kBinDir) + "/" + name; }

 private:
  std::string data_dir() const { return dir_ + "/data"; }

  void choose_server_user() {
    if (::geteuid() != 0) return;
    for (const char* name : {"postgres", "nobody"}) {
      if (const passwd* entry = ::getpwnam(name)) {
        server_user_ = std::make_pair(entry->pw_uid, entry->pw_gid);
        return;
      }
    }
    throw std::runtime_error("running as root and neither the postgres nor the nobody user exists");
  }

  bool accepts_connections() const {
    try {
      run_command({binary("pg_isready"), "-q", "-h", dir_, "-p", std::to_string(port_), "-U", kUser, "-d",
                   "postgres"});
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  void wait_until_ready(const std::string& log_path) {
    // Generous: a loaded 2-core CI machine can take seconds to start a server.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (process_.exited()) {
        throw std::runtime_error("postgres exited at start on port " + std::to_string(port_) + ": " +
                                 read_file_tail(log_path));
      }
      if (accepts_connections()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    signal_and_wait(SIGQUIT);
    throw std::runtime_error("postgres did not accept connections within 60 s on port " +
                             std::to_string(port_) + ": " + read_file_tail(log_path));
  }

  // A fast shutdown is quick; past 60 s something is wrong, and a test must not hang on it.
  void signal_and_wait(int signal_number) {
    process_.signal_and_wait(signal_number, std::chrono::seconds(60));
  }

  std::string dir_;
  std::uint16_t port_ = 0;
  // Under root: the user initdb and postgres run as, who owns dir_.
  RunAs server_user_;
  ChildProcess process_;
};

}  // namespace plume::testing
