// `plume serve` with a PostgreSQL-backed service under a steady load of REST calls while
// PostgreSQL restarts: during the outage calls fail with 503 (never hang) and /readyz says why;
// once the database is back, calls succeed again and /readyz is ready, with no data lost.
#include "testing/postgres_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using plume::testing::PostgresServer;

// A call that takes this long is a hang: the outage must answer 503, not wait for TCP.
constexpr auto kHang = 20s;

struct Reply {
  int status = 0;  // 0: no answer (refused, reset or timed out)
  std::string body;
  std::chrono::milliseconds took{0};
};

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// One HTTP/1.1 request on its own connection, read until the server closes it.
Reply http(std::uint16_t port, const std::string& method, const std::string& target,
           const std::string& body = "") {
  const auto start = std::chrono::steady_clock::now();
  Reply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!body.empty()) {
      request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    const auto deadline = start + kHang;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      pollfd poll_fd{fd, POLLIN, 0};
      if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        if (response.size() > 12) reply.status = std::stoi(response.substr(9, 3));
        break;
      }
      response.append(buffer, static_cast<std::size_t>(n));
    }
    if (auto end = response.find("\r\n\r\n"); end != std::string::npos) reply.body = response.substr(end + 4);
  }
  ::close(fd);
  reply.took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return reply;
}

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds limit = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// `plume serve --config dir` on `port`, its output in dir/plume.log.
class PlumeServe {
 public:
  PlumeServe(const std::filesystem::path& dir, std::uint16_t port) : log_(dir / "plume.log") {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int log = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::setenv("PLUME_PORT", std::to_string(port).c_str(), 1);
      ::execl(PLUME_BINARY, PLUME_BINARY, "serve", "--config", dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~PlumeServe() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  std::string log() const {
    std::ifstream file(log_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

TEST(PostgresRestart, CallsFailFastDuringTheOutageAndSucceedAfterIt) {
  PostgresServer postgres;
  const std::string url = postgres.create_database();
  std::random_device random;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("plume-pg-restart-" + std::to_string(random()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "default.yaml")
      << "name: restart\nhost: 127.0.0.1\n"
         "databases:\n  main: "
      << url
      << "?connect_timeout=2\n"
         "services:\n"
         "  items:\n"
         "    database: main\n"
         "    schema: { name: { type: string, required: true }, n: { type: integer } }\n"
         "    paginate: { default: 5, max: 50 }\n";
  const std::uint16_t port = free_port();
  PlumeServe plume(dir, port);
  ASSERT_TRUE(eventually([&] { return http(port, "GET", "/healthz").status == 200; })) << plume.log();
  ASSERT_TRUE(eventually([&] { return http(port, "GET", "/readyz").status == 200; })) << plume.log();

  enum Phase { kBefore, kOutage, kAfter };
  std::atomic<int> phase = kBefore;
  std::atomic<bool> running = true;
  std::mutex mutex;
  std::vector<std::pair<int, Reply>> replies;  // phase, reply
  std::atomic<int> successes[3] = {0, 0, 0};
  std::atomic<int> unavailable[3] = {0, 0, 0};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&, t] {
      for (int i = 0; running; ++i) {
        Reply reply = (i % 2 == 0) ? http(port, "POST", "/items",
                                          R"({"name": "load)" + std::to_string(t) + R"(", "n": 1})")
                                   : http(port, "GET", "/items?n=1&$limit=2");
        // The phase when the answer came: a call that saw the outage ends after it began.
        const int now = phase;
        if (reply.status == 200 || reply.status == 201) ++successes[now];
        if (reply.status == 503) ++unavailable[now];
        std::lock_guard lock(mutex);
        replies.emplace_back(now, std::move(reply));
      }
    });
  }

  EXPECT_TRUE(eventually([&] { return successes[kBefore] >= 20; })) << plume.log();
  const Reply before = http(port, "GET", "/items?$limit=0");
  ASSERT_EQ(before.status, 200) << before.body;

  phase = kOutage;
  postgres.stop();
  EXPECT_TRUE(eventually([&] { return unavailable[kOutage] >= 10; })) << plume.log();
  Reply not_ready;
  EXPECT_TRUE(eventually([&] { return (not_ready = http(port, "GET", "/readyz")).status == 503; }));
  EXPECT_NE(not_ready.body.find("database:main"), std::string::npos) << not_ready.body;

  postgres.start();
  phase = kAfter;
  EXPECT_TRUE(eventually([&] { return http(port, "GET", "/readyz").status == 200; })) << plume.log();
  EXPECT_TRUE(eventually([&] { return successes[kAfter] >= 20; })) << plume.log();
  running = false;
  for (auto& thread : load) thread.join();

  // Every call answered, none hung: success, or 503 while the database was away.
  for (const auto& [when, reply] : replies) {
    EXPECT_LT(reply.took, kHang) << "a call hung during phase " << when;
    if (when == kBefore) {
      EXPECT_TRUE(reply.status == 200 || reply.status == 201) << reply.status << " " << reply.body;
    } else {
      EXPECT_TRUE(reply.status == 200 || reply.status == 201 || reply.status == 503)
          << "phase " << when << ": " << reply.status << " " << reply.body;
    }
    if (reply.status == 503)
      EXPECT_NE(reply.body.find("\"name\":\"Unavailable\""), std::string::npos) << reply.body;
  }
  // Records written before the restart are still there.
  const std::string total_before = before.body.substr(before.body.find("\"total\":") + 8);
  const Reply after = http(port, "GET", "/items?$limit=0");
  EXPECT_GE(std::stoi(after.body.substr(after.body.find("\"total\":") + 8)), std::stoi(total_before));
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
