#include "mesh/link_tls.hpp"

#include "mesh/link.hpp"
#include "mesh/websocket_link.hpp"
#include "mesh/websocket_link_testing.hpp"

#include <plume/core/error.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

namespace plume::mesh {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::asio::ip::tcp;
using namespace testing;

std::vector<unsigned char> from_hex(std::string_view hex) {
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string bytes(const std::vector<unsigned char>& v) { return std::string(v.begin(), v.end()); }

TEST(LinkTlsKey, HkdfMatchesRfc5869TestCase1) {
  const auto okm =
      hkdf_sha256(bytes(from_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")),
                  bytes(from_hex("000102030405060708090a0b0c")), bytes(from_hex("f0f1f2f3f4f5f6f7f8f9")), 42);
  EXPECT_EQ(to_hex(okm.data(), okm.size()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(LinkTlsKey, PskIsDerivedFromTheSecretAndOnlyFromIt) {
  const auto a = mesh_psk("cluster-secret");
  EXPECT_EQ(a, mesh_psk("cluster-secret"));
  EXPECT_NE(a, mesh_psk("cluster-secreT"));
  const auto expected = hkdf_sha256("cluster-secret", "plume-mesh", "plume mesh link psk v1", 32);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), expected.begin()));
  // Not the secret itself, nor a plain hash of it that another use might share.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.data()), 14).find("cluster"), std::string::npos);
}

TEST(LinkTlsKey, OffMeansNoTlsConfiguration) {
  EXPECT_EQ(make_link_tls(MeshTlsOptions{.mode = MeshTlsMode::Off}, "s"), nullptr);
  auto psk = make_link_tls(MeshTlsOptions{}, "s");
  ASSERT_NE(psk, nullptr);
  EXPECT_EQ(psk->mode, MeshTlsMode::Psk);
}

TEST(LinkTlsKey, CertificateThatDoesNotLoadNamesTheKeyAndFile) {
  try {
    make_link_tls(MeshTlsOptions{.mode = MeshTlsMode::Certificates,
                                 .cert = "/nonexistent/node.pem",
                                 .key = "/nonexistent/node.key",
                                 .ca = "/nonexistent/ca.pem"},
                  "s");
    FAIL() << "loaded";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mesh.tls.cert"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/nonexistent/node.pem"), std::string::npos) << e.what();
  }
}

TEST(LinkTls, WrongSecretFailsInTheTlsHandshakeBeforeAnyFrame) {
  MeshNode node(settings_for("node-b", "right"));
  Dialer dialer;
  const auto before = rejected_handshakes();
  try {
    dialer.dial(node.address(), settings_for("node-a", "wrong"));
    FAIL() << "the dial succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Forbidden);
    EXPECT_NE(std::string(e.what()).find("TLS handshake"), std::string::npos) << e.what();
  }
  // Counted once, by the listener that found the dialer's PSK binder wrong.
  EXPECT_EQ(rejected_handshakes_settled(before + 1), before + 1);
  EXPECT_EQ(node.recorder.established_count(), 0u);
  EXPECT_TRUE(node.recorder.frames().empty());
}

TEST(LinkTls, PlaintextDialerIsRefusedByATlsListenerAndTheOtherWayRound) {
  {
    MeshNode node(settings_for("node-b", "s3cret"));
    Dialer dialer;
    const auto before = rejected_handshakes();
    EXPECT_THROW(dialer.dial(node.address(), plaintext_settings_for("node-a", "s3cret")), Error);
    EXPECT_EQ(rejected_handshakes_settled(before + 1), before + 1);
    EXPECT_EQ(node.recorder.established_count(), 0u);
  }
  {
    MeshNode node(plaintext_settings_for("node-b", "s3cret"));
    Dialer dialer;
    try {
      dialer.dial(node.address(), settings_for("node-a", "s3cret"));
      FAIL() << "the dial succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::Forbidden);
      EXPECT_NE(std::string(e.what()).find("mesh.tls"), std::string::npos) << e.what();
    }
    EXPECT_EQ(node.recorder.established_count(), 0u);
  }
}

TEST(LinkTls, TlsUpgradeIsAnsweredWith101AndThenSpeaksOnlyTls) {
  MeshNode node(settings_for("node-b", "s3cret"));
  boost::asio::io_context ctx;
  tcp::socket socket(ctx);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), node.port()));
  http::request<http::empty_body> request(http::verb::get, "/_mesh", 11);
  request.set(http::field::host, node.address());
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::upgrade, "TLS/1.3");
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a 101 has no body
  http::read_header(socket, buffer, parser);
  EXPECT_EQ(parser.get().result(), http::status::switching_protocols);
  EXPECT_EQ(parser.get()[http::field::upgrade], "TLS/1.3");
  // A WebSocket upgrade in clear is not TLS: the listener drops the connection.
  const std::string clear = "GET /_mesh HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(clear));
  beast::error_code ec;
  char byte;
  for (int i = 0; i < 64 && !ec; ++i) socket.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) << ec.message();
  EXPECT_EQ(node.recorder.established_count(), 0u);
}

TEST(LinkTls, RefusedHandshakesAreLoggedOnceAndThenEveryThousandth) {
  std::ostringstream lines;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines)));
  const auto before = rejected_handshakes();
  for (int i = 0; i < 2500; ++i) log_rejected_handshake("127.0.0.1:9", false, "TLS handshake: bad binder");
  spdlog::set_default_logger(previous);
  std::size_t expected = 0;
  for (auto n = before + 1; n <= before + 2500; ++n) expected += n == 1 || n % 1000 == 0 ? 1 : 0;
  std::size_t logged = 0;
  for (auto at = lines.str().find("event=mesh_link_rejected"); at != std::string::npos;
       at = lines.str().find("event=mesh_link_rejected", at + 1)) {
    ++logged;
  }
  EXPECT_EQ(rejected_handshakes(), before + 2500);
  EXPECT_EQ(logged, expected);
  EXPECT_LE(logged, 3u);
}

// Certificates made for the test with the openssl command: a CA, nodes it signs, and a node
// signed by another CA.
class Certificates {
 public:
  Certificates() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() / ("plume-mesh-certs-" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    make_ca("ca");
    make_ca("other-ca");
    make_node("a", "ca");
    make_node("b", "ca");
    make_node("intruder", "other-ca");
  }
  ~Certificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  MeshTlsOptions node(const std::string& name, const std::string& ca = "ca") const {
    return MeshTlsOptions{.mode = MeshTlsMode::Certificates,
                          .cert = path(name + ".pem"),
                          .key = path(name + ".key"),
                          .ca = path(ca + ".pem")};
  }

 private:
  std::string path(const std::string& file) const { return (dir_ / file).string(); }
  void run(const std::string& command) const {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0)
      throw std::runtime_error("failed: " + command);
  }
  void make_ca(const std::string& name) const {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" +
        name + " -addext basicConstraints=critical,CA:TRUE -keyout " + path(name + ".key") + " -out " +
        path(name + ".pem"));
  }
  void make_node(const std::string& name, const std::string& ca) const {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
        " -keyout " + path(name + ".key") + " -out " + path(name + ".csr"));
    run("openssl x509 -req -days 1 -in " + path(name + ".csr") + " -CA " + path(ca + ".pem") + " -CAkey " +
        path(ca + ".key") + " -CAcreateserial -out " + path(name + ".pem"));
  }
  std::filesystem::path dir_;
};

LinkSettings with_certificates(LinkSettings settings, const MeshTlsOptions& options) {
  settings.tls = make_link_tls(options, settings.secret);
  return settings;
}

TEST(LinkTls, CertificatesVerifiedBothWaysLinkUpAndCarryFrames) {
  Certificates certificates;
  MeshNode node(with_certificates(settings_for("node-b", "s3cret"), certificates.node("b")));
  Dialer dialer;
  auto link = dialer.dial(node.address(),
                          with_certificates(settings_for("node-a", "s3cret"), certificates.node("a")));
  ASSERT_TRUE(link->open());
  ASSERT_TRUE(link->send(numbered(7)));
  EXPECT_TRUE(node.recorder.wait([](Recorder& r) { return r.frames_.size() == 1; }));
  EXPECT_EQ(node.recorder.frames().at(0), numbered(7));
}

TEST(LinkTls, CertificateOfAnotherCaIsRefusedEitherWay) {
  Certificates certificates;
  {
    MeshNode node(with_certificates(settings_for("node-b", "s3cret"), certificates.node("b")));
    Dialer dialer;
    const auto before = rejected_handshakes();
    EXPECT_THROW(dialer.dial(node.address(), with_certificates(settings_for("node-a", "s3cret"),
                                                               certificates.node("intruder", "other-ca"))),
                 Error);
    EXPECT_GE(rejected_handshakes(), before + 1);
    EXPECT_EQ(node.recorder.established_count(), 0u);
  }
  {
    // The intruder listens; a proper node dialing it refuses its certificate.
    MeshNode node(with_certificates(settings_for("node-b", "s3cret"), certificates.node("intruder", "ca")));
    Dialer dialer;
    EXPECT_THROW(dialer.dial(node.address(),
                             with_certificates(settings_for("node-a", "s3cret"), certificates.node("a"))),
                 Error);
    EXPECT_EQ(dialer.recorder.established_count(), 0u);
    EXPECT_EQ(node.recorder.established_count(), 0u);
  }
}

}  // namespace
}  // namespace plume::mesh
