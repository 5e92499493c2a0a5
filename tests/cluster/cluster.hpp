// Real `plume serve` processes for multi-node tests: each node gets a config file and a log file
// in its own temporary directory, is started, killed (SIGKILL) or stopped (SIGTERM), and is
// talked to over HTTP with a fresh connection per request, so that a dead node shows up as a
// failed request rather than a stuck client.
#pragma once

#include "test_server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace plume::testing {

using namespace std::chrono_literals;

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "plume-cluster") {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 15s,
                       std::chrono::milliseconds every = 50ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(every);
  }
  return condition();
}

// A port in the dynamic range for a test's multicast discovery, so that tests running at the
// same time on one machine never hear each other's nodes.
inline std::uint16_t random_port() {
  std::random_device random;
  return static_cast<std::uint16_t>(20000 + random() % 30000);
}

// One HTTP request on a fresh connection; status 0 when the node could not be reached.
inline HttpReply http_call(std::uint16_t port, http::verb verb, const std::string& target,
                           const std::string& body = {}, std::chrono::milliseconds timeout = 10s,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  try {
    HttpClient client(port, timeout);
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(false);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
    }
    for (const auto& [name, value] : headers) request.set(name, value);
    request.prepare_payload();
    client.write(request);
    return client.read_reply();
  } catch (const std::exception&) {
    return HttpReply{};
  }
}

// A `plume serve` child process.
class PlumeNode {
 public:
  PlumeNode(std::string name, const TempDir& dir, std::string config,
            std::map<std::string, std::string> env = {})
      : name_(std::move(name)), env_(std::move(env)) {
    config_ = dir.write(name_ + ".yaml", config);
    log_ = dir.path() / (name_ + ".log");
    start();
  }
  ~PlumeNode() { kill9(); }
  PlumeNode(const PlumeNode&) = delete;
  PlumeNode& operator=(const PlumeNode&) = delete;

  // Starts the process (again) and waits until it listens; the port is read from its log.
  void start() {
    std::ofstream(log_, std::ios::trunc).flush();
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_APPEND);
      dup2(fd, 1);
      dup2(fd, 2);
      for (const auto& [key, value] : env_) setenv(key.c_str(), value.c_str(), 1);
      const std::string config = config_.string();
      execl(PLUME_BINARY, PLUME_BINARY, "serve", "--config", config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    static const std::regex kListening(R"(listening .*port=(\d+))");
    std::smatch match;
    const bool up = eventually(
        [&] {
          const std::string text = log();
          if (std::regex_search(text, match, kListening)) {
            port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
            return true;
          }
          return !alive();
        },
        30s);
    if (!up || port_ == 0) throw std::runtime_error(name_ + " did not start:\n" + log());
  }

  void kill9() { signal_and_wait(SIGKILL); }
  void terminate() { signal_and_wait(SIGTERM); }

  bool alive() const {
    if (pid_ <= 0) return false;
    int status = 0;
    return waitpid(pid_, &status, WNOHANG) == 0;
  }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }

  HttpReply get(const std::string& target) const { return http_call(port_, http::verb::get, target); }
  HttpReply post(const std::string& target, const std::string& body) const {
    return http_call(port_, http::verb::post, target, body);
  }
  HttpReply send(http::verb verb, const std::string& target, const std::string& body = {}) const {
    return http_call(port_, verb, target, body);
  }

 private:
  void signal_and_wait(int number) {
    if (pid_ <= 0) return;
    ::kill(pid_, number);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string name_;
  std::map<std::string, std::string> env_;
  std::filesystem::path config_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace plume::testing
