// The real `plume` binary: --version, `check` on good and bad configurations, and `serve`
// answering /healthz and REST calls, then stopping cleanly on SIGTERM.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() / ("plume-cli-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

// A child process running `plume` with its stdout and stderr on pipes.
class Plume {
 public:
  Plume(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    int out[2];
    int err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]);
      close(err[0]);
      for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(PLUME_BINARY));
      for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(PLUME_BINARY, argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Plume() {
    if (pid_ > 0 && status_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }

  // Reads stdout until a line contains `needle`; returns that line, or "" after `timeout`.
  std::string wait_for_line(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::size_t newline;
      while ((newline = pending_.find('\n')) != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        stdout_ += pending_.substr(0, newline + 1);
        pending_.erase(0, newline + 1);
        if (line.find(needle) != std::string::npos) return line;
      }
      pollfd fd{out_, POLLIN, 0};
      if (poll(&fd, 1, 100) > 0) {
        char buffer[4096];
        const ssize_t n = read(out_, buffer, sizeof buffer);
        if (n <= 0) break;
        pending_.append(buffer, static_cast<std::size_t>(n));
      }
    }
    return {};
  }

  // Waits for the exit status; -1 after `timeout`.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      drain();
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        drain();
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  void signal(int number) { kill(pid_, number); }
  std::string out() const { return stdout_ + pending_; }
  const std::string& err() const { return stderr_; }

 private:
  void drain() {
    for (int fd : {out_, err_}) {
      pollfd entry{fd, POLLIN, 0};
      while (poll(&entry, 1, 0) > 0 && (entry.revents & POLLIN)) {
        char buffer[4096];
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        (fd == out_ ? pending_ : stderr_).append(buffer, static_cast<std::size_t>(n));
      }
    }
  }

  pid_t pid_ = -1;
  int status_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string pending_;
  std::string stdout_;
  std::string stderr_;
};

// One HTTP/1.1 exchange with Connection: close; returns the whole response.
std::string http(int port, const std::string& method, const std::string& target,
                 const std::string& body = "") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return {};
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty()) {
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) response.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  return response;
}

int port_from(const std::string& line) {
  const std::size_t at = line.find("port");
  if (at == std::string::npos) return 0;
  std::size_t digits = line.find_first_of("0123456789", at);
  return digits == std::string::npos ? 0 : std::stoi(line.substr(digits));
}

// The version CMake's project() declares, read from the source tree.
std::string project_version() {
  std::ifstream in(std::string(PLUME_SOURCE_DIR) + "/CMakeLists.txt");
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t at = line.find("project(plume VERSION ");
    if (at == std::string::npos) continue;
    const std::size_t start = at + std::string("project(plume VERSION ").size();
    return line.substr(start, line.find_first_of(" )", start) - start);
  }
  return {};
}

TEST(PlumeCommand, VersionPrintsTheProjectVersion) {
  const std::string version = project_version();
  ASSERT_FALSE(version.empty());
  Plume plume({"--version"}, {});
  ASSERT_EQ(plume.wait(10s), 0);
  EXPECT_EQ(plume.out(), "plume " + version + "\n");
}

TEST(PlumeCommand, UnknownOptionIsAUsageError) {
  Plume plume({"serve", "--confg", "x"}, {});
  EXPECT_EQ(plume.wait(10s), 2);
  EXPECT_FALSE(plume.err().empty());
}

TEST(PlumeCommand, CheckPrintsResolvedConfigWithSecretsMasked) {
  TempDir dir;
  dir.write("default.yaml",
            "name: chat\nport: 3030\nauthentication:\n  secret: ${AUTH_SECRET}\n  service: users\n"
            "databases:\n  main: sqlite://data/chat.db\nservices:\n  users: {}\n");
  dir.write("production.yaml", "port: 8080\n");
  Plume plume({"check", "--config", dir.path().string()},
              {{"PLUME_ENV", "production"}, {"AUTH_SECRET", "hunter2"}});
  ASSERT_EQ(plume.wait(10s), 0) << plume.err();
  EXPECT_NE(plume.out().find("port: 8080"), std::string::npos) << plume.out();
  EXPECT_NE(plume.out().find("secret: \"****\""), std::string::npos) << plume.out();
  EXPECT_EQ(plume.out().find("hunter2"), std::string::npos) << plume.out();
}

TEST(PlumeCommand, CheckPrintsJsonOnRequest) {
  TempDir dir;
  const auto file = dir.write("node.json", R"({"name": "api", "databases": {"pg": "memory://"}})");
  Plume plume({"check", "--config", file.string(), "--format", "json"}, {});
  ASSERT_EQ(plume.wait(10s), 0) << plume.err();
  EXPECT_NE(plume.out().find("\"name\": \"api\""), std::string::npos) << plume.out();
}

TEST(PlumeCommand, CheckFailsOnUnknownKeyNamingKeyFileAndChoices) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "services:\n  messages:\n    paginat: false\n");
  Plume plume({"check", "--config", file.string()}, {});
  ASSERT_EQ(plume.wait(10s), 1);
  EXPECT_NE(plume.err().find(file.string() + ":3: services.messages.paginat: unknown key; expected one of:"),
            std::string::npos)
      << plume.err();
  EXPECT_TRUE(plume.out().empty());
}

TEST(PlumeCommand, CheckAcceptsPostgresAndMasksThePassword) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "databases:\n  main: postgres://app:pw@db:5432/app\n");
  Plume plume({"check", "--config", file.string()}, {});
  ASSERT_EQ(plume.wait(10s), 0) << plume.err();
  EXPECT_NE(plume.out().find("postgres://app:****@db:5432/app"), std::string::npos) << plume.out();
}

TEST(PlumeCommand, ServeAnswersHealthzAndServicesThenStopsOnSigterm) {
  TempDir dir;
  dir.write("default.yaml",
            "name: chat\nhost: 127.0.0.1\nport: 3030\n"
            "databases:\n  main: sqlite://" +
                (dir.path() / "data" / "chat.db").string() +
                "\n"
                "services:\n"
                "  messages:\n    database: main\n    schema:\n      text: { type: string }\n"
                "  notes: { database: memory }\n");
  Plume plume({"serve", "--config", dir.path().string()}, {{"PLUME_PORT", "0"}});
  const std::string listening = plume.wait_for_line("listening", 20s);
  ASSERT_FALSE(listening.empty()) << plume.out() << plume.err();
  const int port = port_from(listening);
  ASSERT_GT(port, 0) << listening;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data" / "chat.db"));  // parent directory created

  EXPECT_NE(http(port, "GET", "/healthz").find(" 200 "), std::string::npos);
  const std::string created = http(port, "POST", "/messages", R"({"text":"hello"})");
  EXPECT_NE(created.find(" 201 "), std::string::npos) << created;
  EXPECT_NE(http(port, "GET", "/messages").find("hello"), std::string::npos);

  plume.signal(SIGTERM);
  EXPECT_EQ(plume.wait(10s), 0) << plume.out() << plume.err();
  EXPECT_NE(plume.out().find("shutting down signal=SIGTERM"), std::string::npos) << plume.out();
}

TEST(PlumeCommand, ServeRefusesAMeshWithoutASecret) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "port: 0\nmesh: { discovery: udp }\n");
  Plume plume({"serve", "--config", file.string()}, {});
  ASSERT_EQ(plume.wait(10s), 1) << plume.out();
  EXPECT_NE(plume.err().find("mesh.secret: the mesh admits only nodes that prove the cluster secret"),
            std::string::npos)
      << plume.err();
}

TEST(PlumeCommand, ServeWritesJsonLogLinesWhenAsked) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "port: 0\nlogging: { format: json }\n");
  Plume plume({"serve", "--config", file.string()}, {});
  const std::string listening = plume.wait_for_line("\"listening\"", 20s);
  ASSERT_FALSE(listening.empty()) << plume.out() << plume.err();
  EXPECT_EQ(listening.front(), '{');
  EXPECT_NE(listening.find("\"port\":"), std::string::npos) << listening;
  EXPECT_GT(port_from(listening), 0);
  plume.signal(SIGINT);
  EXPECT_EQ(plume.wait(10s), 0) << plume.err();
}

TEST(PlumeCommand, ServeFailsWithExitOneOnBadConfig) {
  TempDir dir;
  const auto file = dir.write("node.yaml", "port: ${UNSET_PORT_VARIABLE}\n");
  Plume plume({"serve", "--config", file.string()}, {});
  ASSERT_EQ(plume.wait(10s), 1);
  EXPECT_NE(plume.err().find("UNSET_PORT_VARIABLE is not set"), std::string::npos) << plume.err();
}

}  // namespace
