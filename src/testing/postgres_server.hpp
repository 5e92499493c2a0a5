// A real PostgreSQL 15 for tests: initdb into a temporary directory, the server started as a
// child process on a free loopback port (and a unix socket in that directory), a database made
// for the test, stop and restart on the same port, everything removed at the end. PostgreSQL
// refuses to run as root, so under root the server runs as the `postgres` system user (or
// `nobody`) with the directory handed to it. psql() runs the stock client against it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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
      if (switch_user_ && ::chown(dir_.c_str(), uid_, gid_) != 0) {
        throw std::runtime_error("cannot hand " + dir_ + " to the PostgreSQL user: " + std::strerror(errno));
      }
      run_checked({binary("initdb"), "-D", data_dir(), "-U", kUser, "--auth=trust", "--encoding=UTF8",
                   "--locale=C", "--no-sync", "--no-instructions"},
                  true);
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
  bool running() const noexcept { return pid_ > 0; }
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
    if (pid_ > 0) return;
    const std::string log_path = dir_ + "/postgres.log";
    // Durability is not what these tests check: fsync off keeps a loaded CI machine fast.
    pid_ = spawn({binary("postgres"), "-D", data_dir(), "-p", std::to_string(port_), "-k", dir_, "-c",
                  "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                  "full_page_writes=off", "-c", "max_connections=200"},
                 log_path, -1, true);
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
    return run_checked({binary("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir_, "-p",
                        std::to_string(port_), "-U", kUser, "-d", database, "-c", sql},
                       false);
  }

  static std::string binary(const std::string& name) { return std::string(kBinDir) + "/" + name; }

 private:
  std::string data_dir() const { return dir_ + "/data"; }

  void choose_server_user() {
    if (::geteuid() != 0) return;
    for (const char* name : {"postgres", "nobody"}) {
      if (const passwd* entry = ::getpwnam(name)) {
        uid_ = entry->pw_uid;
        gid_ = entry->pw_gid;
        switch_user_ = true;
        return;
      }
    }
    throw std::runtime_error("running as root and neither the postgres nor the nobody user exists");
  }

  static std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  // fork/exec so that the child closes every inherited descriptor (a server holding a copy of a
  // test's socket would keep that connection open) and, under root, drops to the server user.
  pid_t spawn(const std::vector<std::string>& args, const std::string& log_path, int stdout_fd,
              bool as_server_user) const {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const int log_fd =
        log_path.empty() ? -1 : ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const bool drop = as_server_user && switch_user_;
    const uid_t uid = uid_;
    const gid_t gid = gid_;
    const pid_t pid = ::fork();
    if (pid < 0) {
      if (log_fd >= 0) ::close(log_fd);
      throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
      const int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0) ::dup2(null_fd, 0);
      if (log_fd >= 0) {
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
      }
      if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
      ::close_range(3, ~0U, 0);
      if (drop && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) ::_exit(126);
      // The server user's home may not exist; nothing here needs one.
      ::chdir("/");
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (log_fd >= 0) ::close(log_fd);
    return pid;
  }

  // Runs a command to completion; returns its output (stdout and stderr), throws when it fails.
  std::string run_checked(const std::vector<std::string>& args, bool as_server_user) const {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t child = -1;
    try {
      child = spawn(args, "", pipe_fds[1], as_server_user);
    } catch (...) {
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      throw;
    }
    ::close(pipe_fds[1]);
    std::string output;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
      if (n > 0) {
        output.append(buffer, static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    ::close(pipe_fds[0]);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error(args.front() + " failed (status " + std::to_string(status) + "): " + output);
    }
    return output;
  }

  bool accepts_connections() const {
    try {
      run_checked({binary("pg_isready"), "-q", "-h", dir_, "-p", std::to_string(port_), "-U", kUser, "-d",
                   "postgres"},
                  false);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  void wait_until_ready(const std::string& log_path) {
    // Generous: a loaded 2-core CI machine can take seconds to start a server.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("postgres exited at start on port " + std::to_string(port_) + ": " +
                                 read_file(log_path));
      }
      if (accepts_connections()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    signal_and_wait(SIGQUIT);
    throw std::runtime_error("postgres did not accept connections within 60 s on port " +
                             std::to_string(port_) + ": " + read_file(log_path));
  }

  void signal_and_wait(int signal_number) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal_number);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno != EINTR)) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

  static std::string read_file(const std::string& path) {
    std::ifstream file(path);
    std::stringstream content;
    content << file.rdbuf();
    std::string text = content.str();
    if (text.size() > 2'000) text = "..." + text.substr(text.size() - 2'000);
    return text;
  }

  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool switch_user_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace plume::testing
