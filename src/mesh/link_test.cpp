#include "mesh/link.hpp"
#include "mesh/websocket_link_testing.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>
#include <plume/core/json.hpp>
#include <plume/transport/server.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace plume::mesh {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace testing;

TEST(LinkTest, SameSecretLinksUpAndCarriesTenThousandFramesEachWayInOrder) {
  MeshNode node(settings_for("node-b", "s3cret"));
  Dialer dialer;
  auto settings = settings_for("node-a", "s3cret");
  settings.self.address = "127.0.0.1:1111";
  auto link = dialer.dial(node.address(), settings);
  ASSERT_TRUE(link->open());
  EXPECT_TRUE(link->dialed());
  EXPECT_EQ(link->peer().node, "node-b");
  EXPECT_EQ(link->peer().instance, node.settings().self.instance);
  EXPECT_EQ(link->peer().address, node.address());
  EXPECT_EQ(dialer.recorder.established_count(), 1u);  // established has run when dial returns

  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));
  auto remote = node.recorder.link();
  EXPECT_FALSE(remote->dialed());
  EXPECT_EQ(remote->peer().node, "node-a");
  EXPECT_EQ(remote->peer().instance, settings.self.instance);
  EXPECT_EQ(remote->peer().address, "127.0.0.1:1111");

  constexpr std::size_t kFrames = 10'000;
  std::thread back([&] {
    for (std::size_t i = 0; i < kFrames; ++i) ASSERT_TRUE(remote->send(numbered(i)));
  });
  for (std::size_t i = 0; i < kFrames; ++i) ASSERT_TRUE(link->send(numbered(i)));
  back.join();

  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.frames_.size() >= kFrames; }));
  ASSERT_TRUE(dialer.recorder.wait([](Recorder& r) { return r.frames_.size() >= kFrames; }));
  auto received = node.recorder.frames();
  auto returned = dialer.recorder.frames();
  ASSERT_EQ(received.size(), kFrames);  // heartbeats stay inside the links
  ASSERT_EQ(returned.size(), kFrames);
  for (std::size_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(received[i], numbered(i));
    ASSERT_EQ(returned[i], numbered(i));
  }
  for (auto id : dialer.recorder.threads()) EXPECT_EQ(id, dialer.thread_id());
  EXPECT_FALSE(node.recorder.frame_before_established_);
  EXPECT_FALSE(dialer.recorder.frame_before_established_);
}

TEST(LinkTest, HeartbeatsMeasureLatencyOnBothSides) {
  auto listen = settings_for("node-b", "s3cret");
  listen.heartbeat_interval = 20ms;
  MeshNode node(listen);
  Dialer dialer;
  auto dial = settings_for("node-a", "s3cret");
  dial.heartbeat_interval = 20ms;
  auto link = dialer.dial(node.address(), dial);
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));
  auto remote = node.recorder.link();
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while ((link->latency().count() == 0 || remote->latency().count() == 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GT(link->latency().count(), 0);
  EXPECT_GT(remote->latency().count(), 0);
  EXPECT_TRUE(node.recorder.frames().empty());
}

TEST(LinkTest, EightMegabyteFramesPassBothWaysIntact) {
  MeshNode node(settings_for("node-b", "s3cret"));
  Dialer dialer;
  auto link = dialer.dial(node.address(), settings_for("node-a", "s3cret"));
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));

  std::string big = R"({"t":"data","blob":")";
  for (std::size_t i = 0; big.size() < 8 * 1024 * 1024; ++i) big.push_back(static_cast<char>('a' + i % 26));
  big += "\"}";
  ASSERT_TRUE(link->send(big));
  ASSERT_TRUE(link->send(numbered(1)));
  ASSERT_TRUE(node.recorder.link()->send(big));
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.frames_.size() == 2; }));
  ASSERT_TRUE(dialer.recorder.wait([](Recorder& r) { return r.frames_.size() == 1; }));
  EXPECT_TRUE(node.recorder.frames()[0] == big);
  EXPECT_EQ(node.recorder.frames()[1], numbered(1));
  EXPECT_TRUE(dialer.recorder.frames()[0] == big);
}

TEST(LinkTest, FrameOverMaxFrameClosesTheLink) {
  auto listen = settings_for("node-b", "s3cret");
  listen.max_frame = 1024;
  MeshNode node(listen);
  Dialer dialer;
  auto link = dialer.dial(node.address(), settings_for("node-a", "s3cret"));
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));
  auto remote = node.recorder.link();
  ASSERT_TRUE(link->send(std::string(2048, 'x')));
  ASSERT_TRUE(node.recorder.wait([&](Recorder& r) { return !r.closed_[remote.get()].empty(); }));
  EXPECT_EQ(node.recorder.closed_reasons(remote.get()).at(0), "frame over 1024 bytes");
  ASSERT_TRUE(dialer.recorder.wait([&](Recorder& r) { return !r.closed_[link.get()].empty(); }));
  auto reasons = dialer.recorder.closed_reasons(link.get());
  EXPECT_TRUE(reasons.at(0) == "peer closed: code 1009" || reasons.at(0) == "peer disconnected")
      << reasons.at(0);
  EXPECT_TRUE(node.recorder.frames().empty());
}

TEST(LinkTest, DialerWithWrongSecretIsRefusedAndCounted) {
  MeshNode node(settings_for("node-b", "right"));
  Dialer dialer;
  auto before = rejected_handshakes();
  try {
    dialer.dial(node.address(), settings_for("node-a", "wrong"));
    FAIL() << "the dial succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Forbidden);
    EXPECT_NE(std::string(e.what()).find("mesh.secret"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rejected_handshakes_settled(before + 1), before + 1);
  EXPECT_EQ(node.recorder.established_count(), 0u);
  EXPECT_EQ(dialer.recorder.established_count(), 0u);
}

TEST(LinkTest, ListenerWithWrongSecretIsRefusedAndCounted) {
  MeshNode node(settings_for("node-b", "wrong"));
  Dialer dialer;
  auto before = rejected_handshakes();
  EXPECT_THROW(dialer.dial(node.address(), settings_for("node-a", "right")), Error);
  EXPECT_EQ(rejected_handshakes_settled(before + 1), before + 1);
  EXPECT_EQ(node.recorder.established_count(), 0u);
  EXPECT_EQ(dialer.recorder.established_count(), 0u);
}

TEST(LinkTest, DialingAPortWithNothingListeningFailsUnavailable) {
  std::uint16_t port = 0;
  {
    asio::io_context ctx;
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  Dialer dialer;
  try {
    dialer.dial("127.0.0.1:" + std::to_string(port), settings_for("node-a", "s3cret"));
    FAIL() << "the dial succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Unavailable);
  }
}

TEST(LinkTest, PlainGetOnMeshGetsAFeathersError) {
  MeshNode node(settings_for("node-b", "s3cret"));
  asio::io_context ctx;
  tcp::socket socket(ctx);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), node.port()));
  beast::http::request<beast::http::empty_body> request(beast::http::verb::get, "/_mesh", 11);
  request.set(beast::http::field::host, node.address());
  beast::http::write(socket, request);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> response;
  beast::http::read(socket, buffer, response);
  EXPECT_EQ(response.result_int(), 400u);
  auto body = parse_json(response.body()).as_object();
  EXPECT_EQ(body.at("name"), "BadRequest");
  EXPECT_EQ(body.at("code"), 400);
  EXPECT_EQ(body.at("className"), "bad-request");
  EXPECT_TRUE(body.at("message").is_string());
}

TEST(LinkTest, ClosingOneSideRunsClosedOnTheOtherAndSendThenFails) {
  MeshNode node(settings_for("node-b", "s3cret"));
  Dialer dialer;
  auto link = dialer.dial(node.address(), settings_for("node-a", "s3cret"));
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));
  auto remote = node.recorder.link();

  ASSERT_TRUE(link->send(numbered(7)));  // queued before close(): still delivered
  link->close("shutting down for maintenance");
  EXPECT_FALSE(link->open());
  EXPECT_FALSE(link->send(numbered(8)));

  ASSERT_TRUE(node.recorder.wait([&](Recorder& r) { return !r.closed_[remote.get()].empty(); }));
  EXPECT_EQ(node.recorder.closed_reasons(remote.get()).at(0), "peer closed: shutting down for maintenance");
  ASSERT_TRUE(dialer.recorder.wait([&](Recorder& r) { return !r.closed_[link.get()].empty(); }));
  EXPECT_EQ(dialer.recorder.closed_reasons(link.get()).at(0), "closed: shutting down for maintenance");
  EXPECT_EQ(node.recorder.frames(), std::vector<std::string>{numbered(7)});
  EXPECT_FALSE(remote->open());
  EXPECT_FALSE(remote->send(numbered(9)));
  link->close("again");  // a no-op
  remote->close("again");

  node.stop();
  EXPECT_EQ(node.recorder.closed_reasons(remote.get()).size(), 1u);
  EXPECT_EQ(dialer.recorder.closed_reasons(link.get()).size(), 1u);
}

TEST(LinkTest, StoppingTheServerClosesItsLinks) {
  MeshNode node(settings_for("node-b", "s3cret"));
  Dialer dialer;
  auto link = dialer.dial(node.address(), settings_for("node-a", "s3cret"));
  ASSERT_TRUE(node.recorder.wait([](Recorder& r) { return r.established_.size() == 1; }));
  auto remote = node.recorder.link();

  auto started = std::chrono::steady_clock::now();
  node.stop();
  // stop() waits for its connections (up to shutdown_grace): an open link must not hold it.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(node.recorder.closed_reasons(remote.get()), std::vector<std::string>{"server stopping"});
  ASSERT_TRUE(dialer.recorder.wait([&](Recorder& r) { return !r.closed_[link.get()].empty(); }));
  EXPECT_EQ(dialer.recorder.closed_reasons(link.get()), std::vector<std::string>{"peer disconnected"});
  EXPECT_FALSE(link->send(numbered(1)));
}

}  // namespace
}  // namespace plume::mesh
