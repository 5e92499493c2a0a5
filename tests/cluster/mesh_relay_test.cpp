// A relay process (tests/cluster/mesh_relay.py) on the path of a mesh link between two `plume
// serve` nodes, as an attacker between them would be: with the default TLS it sees no frame, no
// forwarded Authorization and no service data, and a call frame it injects after the handshake
// ends the link without an answer; with mesh.tls: off the same relay reads everything and its
// injected `users find` gets every user back (so the test can tell the two apart).
#include "cluster/cluster.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace plume::testing {
namespace {

constexpr std::string_view kSecret = "mesh-relay-secret-0123456789abcdef";
constexpr std::string_view kCanary = "relay-canary-7f3a";
constexpr std::string_view kEmail = "ada@relay.example";
constexpr std::string_view kInjectedCall =
    R"({"t":"call","id":990001,"path":"users","method":"find","params":{},"timeoutMs":5000})";
// A call whose effect the owner's REST API shows.
constexpr std::string_view kInjectedCreate =
    R"({"t":"call","id":990002,"path":"messages","method":"create","data":{"text":"injected-by-relay"},"params":{},"timeoutMs":5000})";

bool owner_has_injected_message(const PlumeNode& owner) {
  return owner.get("/messages").body.find("injected-by-relay") != std::string::npos;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The relay process: it listens on a port of its own and forwards to `target`.
class Relay {
 public:
  Relay(std::uint16_t target, const TempDir& dir) : dir_(dir.path() / "relay") {
    std::filesystem::create_directories(dir_);
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[0], 0);
      close(fds[0]);
      close(fds[1]);
      const std::string script = std::string(PLUME_SOURCE_DIR) + "/tests/cluster/mesh_relay.py";
      const std::string port = std::to_string(target);
      execlp("python3", "python3", script.c_str(), port.c_str(), dir_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[0]);
    commands_ = fds[1];
    if (!eventually([&] { return std::filesystem::exists(dir_ / "port"); }, 10s)) {
      throw std::runtime_error("the relay did not start");
    }
    port_ = static_cast<std::uint16_t>(std::stoi(read_file(dir_ / "port")));
  }
  ~Relay() {
    close(commands_);
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  std::uint16_t port() const { return port_; }
  // Injects `json` toward the listener on the newest connection.
  void inject(std::string_view json) {
    std::string line = std::string(json) + "\n";
    if (write(commands_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("the relay's stdin is closed");
    }
  }
  // Everything recorded in one direction ("c2s": dialer to listener, "s2c": back), all
  // connections; "c2s" includes the unmasked payloads of the frames the relay could parse.
  std::string recorded(const std::string& direction) const {
    std::string all;
    for (int n = 1; std::filesystem::exists(dir_ / (direction + "-" + std::to_string(n) + ".bin")); ++n) {
      all += read_file(dir_ / (direction + "-" + std::to_string(n) + ".bin"));
      all += read_file(dir_ / (direction + "-" + std::to_string(n) + ".frames"));
    }
    return all;
  }
  // The unmasked payloads of the dialer's WebSocket frames the relay read in clear.
  std::string frames_read() const {
    std::string all;
    for (int n = 1; std::filesystem::exists(dir_ / ("c2s-" + std::to_string(n) + ".bin")); ++n) {
      all += read_file(dir_ / ("c2s-" + std::to_string(n) + ".frames"));
    }
    return all;
  }
  std::string events() const { return read_file(dir_ / "events.log"); }
  bool saw(const std::string& event) const { return events().find(event + "\n") != std::string::npos; }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int commands_ = -1;
  std::uint16_t port_ = 0;
};

std::string owner_config(std::uint16_t multicast, std::string_view tls) {
  return "name: owner\nhost: 127.0.0.1\nport: 0\nthreads: 1\nworkers: 1\n"
         "authentication:\n"
         "  secret: relay-test-auth-secret-0123456789abcdef0123\n"
         "  service: users\n"
         "  strategies: [local, jwt]\n"
         "  local: { usernameField: email, passwordField: password }\n"
         "services:\n"
         "  users:\n"
         "    database: memory\n"
         "    auth: { strategy: jwt, except: [create] }\n"
         "    schema:\n"
         "      email: { type: string, required: true }\n"
         "      password: { type: string, secret: true, required: true }\n"
         "  messages:\n"
         "    database: memory\n"
         "    schema: { text: { type: string } }\n"
         "mesh:\n  secret: " +
         std::string(kSecret) + "\n  discovery: udp\n  multicast: { port: " + std::to_string(multicast) +
         ", interface: 127.0.0.1 }\n" + std::string(tls);
}

std::string gateway_config(std::uint16_t relay_port, std::string_view tls) {
  return "name: gateway\nhost: 127.0.0.1\nport: 0\nthreads: 1\nworkers: 1\n"
         "mesh:\n  secret: " +
         std::string(kSecret) +
         "\n  discovery: static\n  peers: [ws://127.0.0.1:" + std::to_string(relay_port) + "]\n" +
         std::string(tls);
}

struct RelayedMesh {
  explicit RelayedMesh(std::string_view tls)
      : owner("owner", dir, owner_config(random_port(), tls)),
        relay(owner.port(), dir),
        gateway("gateway", dir, gateway_config(relay.port(), tls)) {}

  // A user on the owner and a token for them; then calls through the gateway (so through the
  // relay) carrying the token and the canary.
  std::string traffic() {
    const HttpReply created = owner.post(
        "/users", R"({"email":")" + std::string(kEmail) + R"(","password":"correct horse battery"})");
    if (created.status != 201) throw std::runtime_error("user: " + created.body);
    const HttpReply login =
        owner.post("/authentication", R"({"strategy":"local","email":")" + std::string(kEmail) +
                                          R"(","password":"correct horse battery"})");
    if (login.status != 201) throw std::runtime_error("login: " + login.body);
    const std::string token(login.json().at("accessToken").as_string());
    if (!eventually([&] { return gateway.get("/messages").status == 200; }, 20s)) {
      throw std::runtime_error("no link through the relay:\n" + gateway.log() + owner.log());
    }
    const HttpReply message = gateway.post("/messages", R"({"text":")" + std::string(kCanary) + R"("})");
    if (message.status != 201) throw std::runtime_error("message: " + message.body);
    const HttpReply users =
        http_call(gateway.port(), http::verb::get, "/users", {}, 10s, {{"Authorization", "Bearer " + token}});
    if (users.status != 200) throw std::runtime_error("users through the mesh: " + users.body);
    return token;
  }

  TempDir dir;
  PlumeNode owner;
  Relay relay;
  PlumeNode gateway;
};

TEST(MeshRelay, RelayOnATlsLinkSeesNoFrameNoAuthorizationAndNoServiceData) {
  RelayedMesh mesh("");
  const std::string token = mesh.traffic();
  const std::string c2s = mesh.relay.recorded("c2s");
  const std::string s2c = mesh.relay.recorded("s2c");
  ASSERT_GT(c2s.size(), 1000u);  // the calls did pass through it
  ASSERT_GT(s2c.size(), 1000u);
  for (const std::string& seen : {c2s, s2c}) {
    EXPECT_EQ(seen.find(token), std::string::npos);
    EXPECT_EQ(seen.find(kCanary), std::string::npos);
    EXPECT_EQ(seen.find(kEmail), std::string::npos);
    EXPECT_EQ(seen.find("uthorization"), std::string::npos);
    EXPECT_EQ(seen.find("\"t\":"), std::string::npos);  // no frame of the protocol
    EXPECT_EQ(seen.find("challenge"), std::string::npos);
    EXPECT_EQ(seen.find("Sec-WebSocket"), std::string::npos);  // even the WebSocket upgrade is inside TLS
  }
  EXPECT_EQ(mesh.relay.frames_read(), "");  // not one WebSocket frame in clear
  // What is in clear: the request to switch to TLS, and the answer.
  EXPECT_NE(c2s.find("Upgrade: TLS/1.3"), std::string::npos);
  EXPECT_NE(s2c.find("101 Switching Protocols"), std::string::npos);
}

TEST(MeshRelay, CallInjectedIntoATlsLinkEndsTheLinkWithoutAnAnswer) {
  RelayedMesh mesh("");
  mesh.traffic();
  mesh.relay.inject(kInjectedCall);
  ASSERT_TRUE(eventually([&] { return mesh.relay.saw("injected 1"); }, 5s));
  // The owner's TLS layer rejects the record (its MAC cannot verify) and drops the connection.
  EXPECT_TRUE(eventually([&] { return mesh.relay.saw("closed 1"); }, 5s)) << mesh.relay.events();
  EXPECT_NE(mesh.owner.log().find("event=mesh_link_down"), std::string::npos) << mesh.owner.log();
  EXPECT_EQ(mesh.relay.recorded("s2c").find(kEmail), std::string::npos);
  // The gateway links up again (through the relay, a new connection) and serves as before.
  ASSERT_TRUE(eventually(
      [&] { return mesh.relay.saw("open 2") && mesh.gateway.get("/messages").status == 200; }, 20s))
      << mesh.relay.events() << mesh.gateway.log();
  // An injected create is dropped the same way, and never runs.
  mesh.relay.inject(kInjectedCreate);
  EXPECT_TRUE(eventually([&] { return mesh.relay.saw("closed 2"); }, 5s)) << mesh.relay.events();
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(owner_has_injected_message(mesh.owner));
}

// The control: the same relay with TLS turned off reads the link and its injection is served.
TEST(MeshRelay, RelayOnAPlaintextLinkReadsFramesAndItsInjectedCallIsAnswered) {
  RelayedMesh mesh("  tls: off\n");
  const std::string token = mesh.traffic();
  const std::string c2s = mesh.relay.recorded("c2s");
  const std::string s2c = mesh.relay.recorded("s2c");
  EXPECT_NE(c2s.find(token), std::string::npos);
  EXPECT_NE(c2s.find("\"authorization\""), std::string::npos);
  EXPECT_NE(c2s.find(kCanary), std::string::npos);
  EXPECT_NE(s2c.find(kCanary), std::string::npos);
  EXPECT_NE(mesh.relay.frames_read().find("\"t\":\"call\""), std::string::npos);
  EXPECT_NE(mesh.owner.log().find("event=mesh_tls_off"), std::string::npos);

  mesh.relay.inject(kInjectedCall);
  // The owner runs the internal call (no provider, so no auth: jwt) and answers it.
  EXPECT_TRUE(eventually(
      [&] {
        const std::string answered = mesh.relay.recorded("s2c");
        const auto reply = answered.find(R"({"t":"reply","id":990001)");
        return reply != std::string::npos && answered.find(kEmail, reply) != std::string::npos;
      },
      5s))
      << mesh.relay.events();
  mesh.relay.inject(kInjectedCreate);
  EXPECT_TRUE(eventually([&] { return owner_has_injected_message(mesh.owner); }, 5s));
}

}  // namespace
}  // namespace plume::testing
