// A real redis-server for tests: started as a child process on a free loopback port with its
// own temporary directory, stopped, killed and restarted on the same port, removed at the end.
// redis_cli() runs the stock redis-cli against it, as an outside producer or observer would.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testing/child_process.hpp"

namespace plume::testing {

struct RedisServerOptions {
  // appendonly yes + appendfsync always: every acknowledged write survives stop() and kill(),
  // for tests that restart Redis and must not lose data.
  bool append_only = false;
  // --requirepass: clients must AUTH (url() then carries the password).
  std::string password;
  // More redis-server arguments, e.g. {"--maxmemory", "10mb"}.
  std::vector<std::string> extra_args;
};

class RedisServer {
 public:
  static constexpr const char* kServerPath = "/usr/bin/redis-server";
  static constexpr const char* kCliPath = "/usr/bin/redis-cli";

  explicit RedisServer(RedisServerOptions options = {}) : options_(std::move(options)) {
    if (::access(kServerPath, X_OK) != 0) {
      throw std::runtime_error(std::string(kServerPath) +
                               " not found: these tests need a real Redis (scripts/setup.sh installs it, "
                               "or apt-get install redis-server)");
    }
    char dir_template[] = "/tmp/plume-redis-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      throw std::runtime_error(std::string("cannot create a temporary directory for Redis: ") +
                               std::strerror(errno));
    }
    dir_ = dir_template;
    // A free port is only free until someone else takes it: try a few.
    std::string failure;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_loopback_port();
      try {
        start();
        return;
      } catch (const std::exception& error) {
        failure = error.what();
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw std::runtime_error(failure);
  }

  ~RedisServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  const std::string& password() const noexcept { return options_.password; }
  // redis://127.0.0.1:P, or redis://:password@127.0.0.1:P with requirepass.
  std::string url() const {
    if (options_.password.empty()) return "redis://127.0.0.1:" + std::to_string(port_);
    std::string encoded;
    for (const unsigned char c : options_.password) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        encoded += static_cast<char>(c);
      } else {
        const char* digits = "0123456789ABCDEF";
        encoded += '%';
        encoded += digits[c >> 4];
        encoded += digits[c & 15];
      }
    }
    return "redis://:" + encoded + "@127.0.0.1:" + std::to_string(port_);
  }
  bool running() const noexcept { return process_.running(); }
  pid_t pid() const noexcept { return process_.pid(); }

  // Starts (again) on the same port and waits until it answers PING.
  void start() {
    if (process_.running()) return;
    std::vector<std::string> args = {kServerPath,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     options_.append_only ? "yes" : "no",
                                     "--dir",
                                     dir_,
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     "",
                                     "--protected-mode",
                                     "no"};
    if (options_.append_only) {
      args.insert(args.end(), {"--appendfsync", "always"});
    }
    if (!options_.password.empty()) {
      args.insert(args.end(), {"--requirepass", options_.password});
    }
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    const std::string log_path = dir_ + "/redis.log";
    process_.start(args, log_path);
    wait_until_ready(log_path);
  }

  // SIGTERM and wait for the process to exit (a clean shutdown).
  void stop() { signal_and_wait(SIGTERM); }
  // SIGKILL and wait: a crash, nothing flushed that was not already.
  void kill() { signal_and_wait(SIGKILL); }
  void restart() {
    stop();
    start();
  }

  // Runs `redis-cli -p P [-a password] args...` and returns its standard output (the raw
  // replies, one per line, as redis-cli prints them when not on a terminal).
  std::string redis_cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {kCliPath, "-h", "127.0.0.1", "-p", std::to_string(port_)};
    if (!options_.password.empty()) argv.insert(argv.end(), {"-a", options_.password, "--no-auth-warning"});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  // redis_cli() with the trailing newline removed, for single replies.
  std::string redis_cli_line(const std::vector<std::string>& args) const {
    std::string output = redis_cli(args);
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    return output;
  }

 private:
  static bool answers_ping(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    bool ready = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      const char ping[] = "PING\r\n";
      if (::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof ping - 1)) {
        pollfd poll_fd{fd, POLLIN, 0};
        if (::poll(&poll_fd, 1, 2'000) == 1) {
          char reply[128] = {};
          const ssize_t n = ::recv(fd, reply, sizeof reply - 1, 0);
          // +PONG, or -NOAUTH with requirepass: either way the server is serving (not -LOADING).
          ready = n > 0 && (std::strncmp(reply, "+PONG", 5) == 0 || std::strncmp(reply, "-NOAUTH", 7) == 0);
        }
      }
    }
    ::close(fd);
    return ready;
  }

  void wait_until_ready(const std::string& log_path) {
    // Generous: a loaded 2-core CI machine can take seconds to start a process.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (process_.exited()) {
        throw std::runtime_error("redis-server exited at start on port " + std::to_string(port_) + ": " +
                                 read_file_tail(log_path));
      }
      if (answers_ping(port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    signal_and_wait(SIGKILL);
    throw std::runtime_error("redis-server did not answer PING within 30 s on port " + std::to_string(port_) +
                             ": " + read_file_tail(log_path));
  }

  // A clean shutdown is quick; past 30 s something is wrong, and a test must not hang on it.
  void signal_and_wait(int signal_number) {
    process_.signal_and_wait(signal_number, std::chrono::seconds(30));
  }

  RedisServerOptions options_;
  std::string dir_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
};

}  // namespace plume::testing
