// Links against peers that speak the handshake by hand, with Beast's blocking API and the proofs
// computed as link.hpp documents them for plaintext links (mesh.tls: off): peers that prove a wrong secret,
// and peers that complete the handshake and then go silent (a frozen process) or stop reading.
#include "mesh/link.hpp"
#include "mesh/websocket_link_testing.hpp"

#include <plume/core/error.hpp>
#include <plume/core/json.hpp>

#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <future>
#include <optional>

namespace plume::mesh {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::asio::ip::tcp;
using namespace testing;

using Socket = websocket::stream<tcp::socket>;

JsonObject read_object(Socket& ws) {
  beast::flat_buffer buffer;
  ws.read(buffer);
  return parse_json(beast::buffers_to_string(buffer.data())).as_object();
}

void write_object(Socket& ws, const JsonObject& object) {
  ws.text(true);
  ws.write(boost::asio::buffer(to_json_text(object)));
}

std::string text(const JsonObject& object, std::string_view key) {
  return std::string(object.at(key).as_string());
}

// Reads until the link closes the connection; the close code it sent, if any.
std::optional<std::uint16_t> close_code_seen(Socket& ws) {
  try {
    for (;;) read_object(ws);
  } catch (const boost::system::system_error& e) {
    if (e.code() == websocket::error::closed) return ws.reason().code;
  }
  return std::nullopt;
}

enum class Behaviour { WrongProof, Silent };

// Listens on a free port and answers one dialer: a challenge, then a welcome proving
// `welcome_secret`, then (Silent) neither reads nor writes until the test ends.
class HandListener {
 public:
  HandListener(std::string secret, std::string welcome_secret, Behaviour behaviour)
      : acceptor_(ctx_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, secret, welcome_secret, behaviour] {
      try {
        Socket ws(acceptor_.accept());
        ws.accept();
        const std::string nonce = random_hex();
        write_object(
            ws, {{"t", "challenge"}, {"v", 1}, {"node", "hand"}, {"instance", instance}, {"nonce", nonce}});
        auto hello = read_object(ws);
        hello_proof_valid =
            text(hello, "proof") == hmac_sha256_hex(secret, "dial|" + nonce + "|" + text(hello, "nonce") +
                                                                "|" + text(hello, "instance"));
        write_object(ws, {{"t", "welcome"},
                          {"proof", hmac_sha256_hex(welcome_secret, "listen|" + text(hello, "nonce") + "|" +
                                                                        nonce + "|" + instance)}});
        welcomed_at = std::chrono::steady_clock::now();
        if (behaviour == Behaviour::WrongProof) {
          close_code = close_code_seen(ws);
        } else {
          release_.get_future().wait();
        }
      } catch (const std::exception& e) {
        failure = e.what();
      }
    });
  }
  ~HandListener() {
    release_.set_value();
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  // Read after the dial returned or failed.
  const std::string instance = random_hex();
  bool hello_proof_valid = false;
  std::optional<std::uint16_t> close_code;
  std::chrono::steady_clock::time_point welcomed_at;
  std::string failure;

 private:
  boost::asio::io_context ctx_;
  tcp::acceptor acceptor_;
  std::promise<void> release_;
  std::thread thread_;
};

// Dials `address`, says hello proving `secret`, then (Silent) goes quiet until released.
class HandDialer {
 public:
  HandDialer(const std::string& address, std::uint16_t port, const std::string& secret, Behaviour behaviour) {
    ws_.next_layer().connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    ws_.handshake(address, "/_mesh");
    auto challenge = read_object(ws_);
    const std::string nonce = random_hex();
    write_object(ws_, {{"t", "hello"},
                       {"v", 1},
                       {"node", "hand"},
                       {"instance", instance},
                       {"address", "127.0.0.1:9"},
                       {"nonce", nonce},
                       {"proof", hmac_sha256_hex(secret, "dial|" + text(challenge, "nonce") + "|" + nonce +
                                                             "|" + instance)}});
    if (behaviour == Behaviour::WrongProof) {
      close_code = close_code_seen(ws_);
      return;
    }
    auto welcome = read_object(ws_);
    welcome_proof_valid =
        text(welcome, "proof") == hmac_sha256_hex(secret, "listen|" + nonce + "|" + text(challenge, "nonce") +
                                                              "|" + text(challenge, "instance"));
    welcomed_at = std::chrono::steady_clock::now();
  }

  const std::string instance = random_hex();
  std::optional<std::uint16_t> close_code;
  bool welcome_proof_valid = false;
  std::chrono::steady_clock::time_point welcomed_at;

 private:
  boost::asio::io_context ctx_;
  Socket ws_{ctx_};
};

TEST(LinkPeerTest, DialerRefusesAListenerThatCannotProveTheSecret) {
  HandListener listener("s3cret", "other", Behaviour::WrongProof);
  Dialer dialer;
  auto before = rejected_handshakes();
  try {
    dialer.dial(listener.address(), plaintext_settings_for("node-a", "s3cret"));
    FAIL() << "the dial succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Forbidden);
  }
  EXPECT_EQ(rejected_handshakes_settled(before + 1), before + 1);
  EXPECT_EQ(dialer.recorder.established_count(), 0u);
  // Destroying the listener joins its thread, which saw the close frame by then.
}

TEST(LinkPeerTest, RefusedHandshakesCloseWithPolicyViolation) {
  {
    HandListener listener("s3cret", "other", Behaviour::WrongProof);
    Dialer dialer;
    EXPECT_THROW(dialer.dial(listener.address(), plaintext_settings_for("node-a", "s3cret")), Error);
    // The link's hello proved the secret as documented, so the hand-written check accepted it.
    while (!listener.close_code && listener.failure.empty()) std::this_thread::sleep_for(5ms);
  }
  MeshNode node(plaintext_settings_for("node-b", "s3cret"));
  auto before = rejected_handshakes();
  HandDialer wrong(node.address(), node.port(), "other", Behaviour::WrongProof);
  ASSERT_TRUE(wrong.close_code.has_value());
  EXPECT_EQ(*wrong.close_code, static_cast<std::uint16_t>(websocket::close_code::policy_error));
  EXPECT_EQ(rejected_handshakes_settled(before + 1), before + 1);
  EXPECT_EQ(node.recorder.established_count(), 0u);
}

TEST(LinkPeerTest, HandshakeProofsFollowTheDocumentedFormula) {
  MeshNode node(plaintext_settings_for("node-b", "s3cret"));
  HandDialer hand(node.address(), node.port(), "s3cret", Behaviour::Silent);
  EXPECT_TRUE(hand.welcome_proof_valid);
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));
  EXPECT_EQ(node.recorder.link()->peer().node, "hand");
  EXPECT_EQ(node.recorder.link()->peer().instance, hand.instance);
  EXPECT_EQ(node.recorder.link()->peer().address, "127.0.0.1:9");
}

TEST(LinkPeerTest, SilentListenerIsDetectedWithinTheHeartbeatTimeout) {
  HandListener listener("s3cret", "s3cret", Behaviour::Silent);
  Dialer dialer;
  auto settings = plaintext_settings_for("node-a", "s3cret");
  settings.heartbeat_interval = 100ms;
  settings.heartbeat_timeout = 600ms;
  auto link = dialer.dial(listener.address(), settings);
  auto established = std::chrono::steady_clock::now();
  EXPECT_TRUE(listener.hello_proof_valid);
  ASSERT_TRUE(dialer.recorder.wait([&](Recorder& r) { return !r.closed_[link.get()].empty(); }));
  auto reasons = dialer.recorder.closed_reasons(link.get());
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_TRUE(reasons[0].starts_with("heartbeat timeout: nothing received for ")) << reasons[0];
  auto detected =
      dialer.recorder.wait([](Recorder&) { return true; }) ? dialer.recorder.closed_at_ : established;
  EXPECT_GE(detected - established, 550ms);
  EXPECT_LT(detected - established, 600ms + 3s);  // the margin absorbs a loaded machine
  EXPECT_FALSE(link->open());
  EXPECT_FALSE(link->send(numbered(1)));
}

TEST(LinkPeerTest, SilentDialerIsDetectedWithinTheHeartbeatTimeout) {
  auto settings = plaintext_settings_for("node-b", "s3cret");
  settings.heartbeat_interval = 100ms;
  settings.heartbeat_timeout = 600ms;
  MeshNode node(settings);
  HandDialer hand(node.address(), node.port(), "s3cret", Behaviour::Silent);
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));
  auto link = node.recorder.link();
  ASSERT_TRUE(node.recorder.wait([&](Recorder& r) { return !r.closed_[link.get()].empty(); }));
  auto reasons = node.recorder.closed_reasons(link.get());
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_TRUE(reasons[0].starts_with("heartbeat timeout: nothing received for ")) << reasons[0];
  auto detected =
      node.recorder.wait([](Recorder&) { return true; }) ? node.recorder.closed_at_ : hand.welcomed_at;
  EXPECT_LT(detected - hand.welcomed_at, 600ms + 3s);
}

TEST(LinkPeerTest, PeerThatStopsReadingClosesTheLinkOnceTheSendQueueIsFull) {
  HandListener listener("s3cret", "s3cret", Behaviour::Silent);
  Dialer dialer;
  auto settings = plaintext_settings_for("node-a", "s3cret");
  settings.max_queued_bytes = 1024 * 1024;
  settings.heartbeat_timeout = 60s;  // the queue, not the heartbeat, must end this link
  auto link = dialer.dial(listener.address(), settings);
  const std::string chunk(64 * 1024, 'x');
  std::size_t sent = 0;
  // The kernel's socket buffers take some megabytes first; 1 GiB is far past them.
  while (sent < 16 * 1024 && link->send(chunk)) ++sent;
  EXPECT_LT(sent, 16u * 1024u);
  ASSERT_TRUE(dialer.recorder.wait([&](Recorder& r) { return !r.closed_[link.get()].empty(); }));
  EXPECT_EQ(dialer.recorder.closed_reasons(link.get()),
            std::vector<std::string>{"send queue over 1048576 bytes: the peer reads too slowly"});
  EXPECT_FALSE(link->open());
}

}  // namespace
}  // namespace plume::mesh
