// The gateway's side of request-head hardening, over raw sockets: a path is normalised before a
// route is chosen (so a dot segment cannot walk from an open route into a protected one), framing
// a proxy would misread is refused before anything reaches an upstream, responses with a framing
// the gateway did not produce are not relayed, and Host and absolute-form targets choose routes.
#include "gateway_support.hpp"

#include <plume/auth/jwt.hpp>

#include <gtest/gtest.h>
#include <boost/asio/read.hpp>

#include <atomic>
#include <thread>

namespace plume::testing {
namespace {

auth::AuthenticationOptions authentication() {
  auth::AuthenticationOptions options;
  options.secret = "gateway-head-test-secret";
  options.jwt.secret = options.secret;
  return options;
}

HttpReply raw(std::uint16_t port, std::string_view bytes) {
  HttpClient client(port);
  client.send_raw(bytes);
  return client.read_reply();
}

HttpReply raw_get(std::uint16_t port, std::string_view target, std::string_view host = "gw") {
  return raw(port, "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n");
}

// The reference architecture's routes on one upstream: an open service and a protected admin.
struct AdminBehindJwt {
  AdminBehindJwt()
      : node(
            options(upstream), [](App&) {}, authentication()) {}
  static gateway::GatewayOptions options(const Upstream& upstream) {
    auto service = route("/api/service", {upstream.url()});
    service.path_rewrite = {{"^/api/service", "/api"}};
    auto admin = route("/admin", {upstream.url()});
    admin.auth = gateway::AuthMode::Jwt;
    return {.routes = {service, admin}};
  }
  Upstream upstream{"files"};
  GatewayNode node;
};

TEST(GatewayRequestHead, DotSegmentsCannotWalkFromAnOpenRouteIntoAProtectedOne) {
  AdminBehindJwt gateway;
  // These are /api/admin/secret.txt: no route's, so the node's own 404, and nothing proxied
  // (before, /api/service took them and the upstream resolved /api/../admin/secret.txt).
  for (std::string target : {"/api/service/../admin/secret.txt", "/api/service/%2e%2e/admin/secret.txt",
                             "/api/service/.%2E/admin/secret.txt", "/api/service//..//admin/secret.txt"}) {
    auto reply = raw_get(gateway.node.port(), target);
    EXPECT_EQ(reply.status, 404u) << target << ": " << reply.body;
    EXPECT_EQ(reply.json().at("name"), "NotFound") << target;
  }
  // This one is /admin/secret.txt, which the protected route takes.
  auto admin = raw_get(gateway.node.port(), "/api/service/../../admin/secret.txt");
  EXPECT_EQ(admin.status, 401u) << admin.body;
  EXPECT_EQ(admin.json().at("name"), "NotAuthenticated");
  EXPECT_EQ(gateway.upstream.requests(), 0);
}

TEST(GatewayRequestHead, ADotDotBehindAnEncodedSlashIs400) {
  AdminBehindJwt gateway;
  for (std::string target :
       {"/api/service/..%2fadmin/secret.txt", "/api/service/..%2Fadmin/secret.txt",
        "/api/service/%2e%2e%2fadmin/secret.txt", "/api/service/..%5cadmin/secret.txt"}) {
    auto reply = raw_get(gateway.node.port(), target);
    EXPECT_EQ(reply.status, 400u) << target << ": " << reply.body;
    EXPECT_EQ(reply.json().at("name"), "BadRequest") << target;
  }
  EXPECT_EQ(gateway.upstream.requests(), 0);
}

TEST(GatewayRequestHead, AboveTheRootIs400AndNothingIsProxied) {
  AdminBehindJwt gateway;
  auto reply = raw_get(gateway.node.port(), "/api/service/../../../admin/secret.txt");
  EXPECT_EQ(reply.status, 400u) << reply.body;
  EXPECT_EQ(reply.json().at("name"), "BadRequest");
  EXPECT_EQ(gateway.upstream.requests(), 0);
}

TEST(GatewayRequestHead, TheUpstreamGetsTheNormalisedPathAfterRewriteWithTheQueryAsSent) {
  AdminBehindJwt gateway;
  auto reply = raw_get(gateway.node.port(), "/api/service/./docs//%61/b/../c%2fd?q=../x&%2e=1");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.json().at("target"), "/api/docs/a/c%2Fd?q=../x&%2e=1");
}

TEST(GatewayRequestHead, AnUnknownTransferCodingIs501AndNothingReachesTheUpstream) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  for (std::string coding : {"identity", "xchunked", "gzip, chunked"}) {
    HttpClient client(node.port());
    client.send_raw("POST /todos HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: " + coding +
                    "\r\n\r\nDELETE /todos/1 HTTP/1.1\r\nHost: gw\r\n\r\n");
    auto reply = client.read_reply();
    EXPECT_EQ(reply.status, 501u) << coding;
    EXPECT_EQ(reply.json().at("name"), "NotImplemented") << coding;
    auto rest = client.read_until_closed(1s);
    ASSERT_TRUE(rest.has_value()) << coding;
    EXPECT_EQ(rest->find("HTTP/1.1"), std::string::npos) << coding;
  }
  EXPECT_EQ(service.requests(), 0);
}

TEST(GatewayRequestHead, ChunkedNotLastOrWithContentLengthIs400) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  EXPECT_EQ(
      raw(node.port(), "POST /x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").status,
      400u);
  EXPECT_EQ(raw(node.port(),
                "POST /x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}")
                .status,
            400u);
  EXPECT_EQ(service.requests(), 0);
}

TEST(GatewayRequestHead, AChunkedRequestIsReframedByTheGateway) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  auto reply =
      raw(node.port(),
          "POST /x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.json().at("body"), "hello");
  EXPECT_EQ(reply.json().at("headers").at("Transfer-Encoding"), "chunked");
}

// An upstream that answers every request with the same bytes and closes.
class CannedUpstream {
 public:
  explicit CannedUpstream(std::string response)
      : response_(std::move(response)), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      while (!stopping_) {
        asio::ip::tcp::socket socket(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        std::string head;
        char c;
        while (!head.ends_with("\r\n\r\n") && asio::read(socket, asio::buffer(&c, 1), ec) == 1) head += c;
        asio::write(socket, asio::buffer(response_), ec);
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      }
    });
  }
  ~CannedUpstream() {
    stopping_ = true;
    asio::ip::tcp::socket wake(ioc_);
    boost::system::error_code ec;
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

 private:
  std::string response_;
  asio::io_context ioc_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

TEST(GatewayRequestHead, AResponseWithATransferCodingTheGatewayCannotFrameIs502) {
  for (std::string coding : {"identity", "xchunked", "chunked, gzip", "gzip, chunked"}) {
    CannedUpstream upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding +
                            "\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    auto options = route("/", {upstream.url()});
    options.retries = 0;
    GatewayNode node({.routes = {options}});
    HttpClient client(node.port());
    auto reply = client.get("/x");
    EXPECT_EQ(reply.status, 502u) << coding << ": " << reply.body;
    EXPECT_EQ(reply.json().at("name"), "BadGateway") << coding;
    EXPECT_FALSE(reply.has_header("Transfer-Encoding") &&
                 reply.header("Transfer-Encoding").find(coding) != std::string::npos)
        << coding;
  }
}

TEST(GatewayRequestHead, AChunkedResponseIsRelayed) {
  CannedUpstream upstream(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  GatewayNode node({.routes = {route("/", {upstream.url()})}});
  HttpClient client(node.port());
  auto reply = client.get("/x");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.body, "hello");
  EXPECT_EQ(reply.header("Transfer-Encoding"), "chunked");
}

TEST(GatewayRequestHead, TwoHostHeadersAre400AndNothingIsProxied) {
  Upstream service("a");
  GatewayNode node({.routes = {route("api.example.com", {service.url()})}});
  auto reply =
      raw(node.port(), "GET /x HTTP/1.1\r\nHost: api.example.com\r\nHost: other.example.com\r\n\r\n");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.json().at("name"), "BadRequest");
  EXPECT_EQ(raw(node.port(), "GET /x HTTP/1.1\r\n\r\n").status, 400u);
  EXPECT_EQ(service.requests(), 0);
}

TEST(GatewayRequestHead, AHostWithATrailingDotMatchesItsRoute) {
  Upstream service("a");
  GatewayNode node({.routes = {route("api.example.com", {service.url()})}});
  auto reply = raw_get(node.port(), "/x", "api.example.com.");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.json().at("server"), "a");
  EXPECT_EQ(raw_get(node.port(), "/x", "API.example.com.:8080").status, 200u);
}

TEST(GatewayRequestHead, AnAbsoluteFormTargetRoutesByItsAuthorityAndIsForwardedInOriginForm) {
  Upstream service("a");
  GatewayNode node({.routes = {route("api.example.com/v1", {service.url()})}});
  auto reply =
      raw(node.port(), "GET http://api.example.com/v1/x?y=1 HTTP/1.1\r\nHost: other.example.com\r\n\r\n");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.json().at("target"), "/v1/x?y=1");
  EXPECT_EQ(reply.json().at("headers").at("Host"), "api.example.com");
}

}  // namespace
}  // namespace plume::testing
