// A real redis-server for tests: started as a child process on a free loopback port with its
// own temporary directory, stopped, killed and restarted on the same port, removed at the end.
// redis_cli() runs the stock redis-cli against it, as an outside producer or observer would.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }

  // Starts (again) on the same port and waits until it answers PING.
  void start() {
    if (pid_ > 0) return;
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
    pid_ = spawn(args, log_path, -1);
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
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t child = -1;
    try {
      child = spawn(argv, "", pipe_fds[1]);
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
      throw std::runtime_error("redis-cli failed (status " + std::to_string(status) + "), output: " + output);
    }
    return output;
  }

  // redis_cli() with the trailing newline removed, for single replies.
  std::string redis_cli_line(const std::vector<std::string>& args) const {
    std::string output = redis_cli(args);
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    return output;
  }

 private:
  static std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  // fork/exec rather than posix_spawn so that the child closes every inherited descriptor:
  // a redis-server holding a copy of a test's client socket would keep that connection open.
  // `log_path` receives stdout and stderr (empty: inherit); `stdout_fd` >= 0 replaces stdout.
  static pid_t spawn(const std::vector<std::string>& args, const std::string& log_path, int stdout_fd) {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const int log_fd =
        log_path.empty() ? -1 : ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const pid_t pid = ::fork();
    if (pid < 0) {
      if (log_fd >= 0) ::close(log_fd);
      throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      const int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0) ::dup2(null_fd, 0);
      if (log_fd >= 0) {
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
      }
      if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
      ::close_range(3, ~0U, 0);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (log_fd >= 0) ::close(log_fd);
    return pid;
  }

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
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start on port " + std::to_string(port_) + ": " +
                                 read_file(log_path));
      }
      if (answers_ping(port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    signal_and_wait(SIGKILL);
    throw std::runtime_error("redis-server did not answer PING within 30 s on port " + std::to_string(port_) +
                             ": " + read_file(log_path));
  }

  void signal_and_wait(int signal_number) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal_number);
    // A clean shutdown is quick; past 30 s something is wrong, and a test must not hang on it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
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

  RedisServerOptions options_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace plume::testing
