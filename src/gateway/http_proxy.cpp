// One HTTP exchange with an upstream, as Beast's relay example streams a message: the head is
// rewritten and written, then the body goes through a fixed buffer, read from one side with a
// buffer_body parser and written to the other with a serializer, so that memory stays flat for
// any body size and chunked bodies stay chunked.
#include "gateway/exchange.hpp"

#include "net/request_head.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <limits>

namespace plume::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = net::http;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kChunk = 64 * 1024;

bool idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

enum class Outcome {
  Done,          // answered in full
  NoResponse,    // the upstream broke the connection before answering
  Timeout,       // the upstream did not answer within proxyTimeout
  ClientGone,    // the client broke off: nothing more to say to it
  TooLarge,      // the request body passed the route's limit
  BrokenMidway,  // the response had started: the client connection can only be cut
  Unframeable,   // the response's Transfer-Encoding is one the gateway cannot frame again
};

struct Attempt {
  Outcome outcome = Outcome::Done;
  bool reused = false;        // the connection came from the pool
  bool body_started = false;  // request body bytes were taken from the client
  bool client_reusable = false;
  std::string detail;
};

Task<boost::system::error_code> connect(tcp::socket& socket, const TargetAddress& target, Watchdog& watchdog,
                                        std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  watchdog.watch(&socket);
  watchdog.arm(timeout);
  if (!ec) {
    auto [connect_error] = co_await socket.async_connect(tcp::endpoint(address, target.port), kUseTuple);
    co_return connect_error;
  }
  tcp::resolver resolver(socket.get_executor());
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), kUseTuple);
  if (resolve_error) co_return resolve_error;
  auto [connect_error, endpoint] = co_await asio::async_connect(socket, endpoints, kUseTuple);
  co_return connect_error;
}

// Sends the request head and streams its body; then reads the response head and streams the
// response to the client.
Task<Attempt> attempt(Exchange& exchange, Target& target, tcp::socket& upstream, Watchdog& watchdog,
                      std::array<char, kChunk>& chunk, bool reused) {
  Attempt result;
  result.reused = reused;
  auto& client = exchange.client;
  auto& parser = client.parser;
  auto& request = parser.get();
  const auto proxy_timeout = exchange.route.options.proxy_timeout;

  // While the upstream has the next move, the client's deadline must not cut the exchange short.
  auto arm_upstream = [&] {
    client.session.expires_never();
    watchdog.arm(proxy_timeout);
  };
  auto upstream_failed = [&](Outcome outcome, std::string detail) {
    result.outcome = watchdog.fired() ? Outcome::Timeout : outcome;
    result.detail = std::move(detail);
    return result;
  };

  {
    http::serializer<true, http::buffer_body> serializer{request};
    request.body().data = nullptr;
    request.body().size = 0;
    request.body().more = !parser.is_done();
    arm_upstream();
    auto [ec, n] = co_await http::async_write_header(upstream, serializer, kUseTuple);
    if (ec) co_return upstream_failed(Outcome::NoResponse, "writing the request: " + ec.message());
    while (!serializer.is_done()) {
      if (!parser.is_done()) {
        request.body().data = chunk.data();
        request.body().size = chunk.size();
        result.body_started = true;
        client.session.expires_after(exchange.client_timeout);
        auto [read_error, read] =
            co_await http::async_read_some(client.socket, client.buffer, parser, kUseTuple);
        if (read_error == http::error::need_buffer) read_error = {};
        if (read_error == http::error::body_limit) {
          result.outcome = Outcome::TooLarge;
          co_return result;
        }
        if (read_error) {
          result.outcome = Outcome::ClientGone;
          result.detail = "reading the request body: " + read_error.message();
          co_return result;
        }
        request.body().size = chunk.size() - request.body().size;
        request.body().data = chunk.data();
        request.body().more = !parser.is_done();
        if (request.body().size == 0 && request.body().more) continue;
      } else {
        request.body().data = nullptr;
        request.body().size = 0;
        request.body().more = false;
      }
      arm_upstream();
      auto [write_error, written] = co_await http::async_write(upstream, serializer, kUseTuple);
      if (write_error == http::error::need_buffer) write_error = {};
      if (write_error)
        co_return upstream_failed(Outcome::NoResponse, "writing the request: " + write_error.message());
    }
  }

  beast::flat_buffer upstream_buffer;
  std::optional<http::response_parser<http::buffer_body>> response_parser;
  for (;;) {
    response_parser.emplace();
    response_parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (exchange.head) response_parser->skip(true);
    arm_upstream();
    auto [ec, n] = co_await http::async_read_header(upstream, upstream_buffer, *response_parser, kUseTuple);
    if (ec) co_return upstream_failed(Outcome::NoResponse, "reading the response: " + ec.message());
    // Interim replies (100 Continue, 103 Early Hints) are the upstream's business with us.
    const unsigned status = response_parser->get().result_int();
    if (status >= 100 && status < 200 && status != 101) continue;
    break;
  }
  auto& response = response_parser->get();
  // The gateway sent no TE, so an upstream may use no transfer coding but chunked (RFC 9110
  // 10.1.4), which the gateway decodes and writes anew. Anything else has a length the gateway
  // cannot know, or would reach the client with a framing the gateway did not produce.
  if (response.find(http::field::transfer_encoding) != response.end()) {
    auto codings = net::transfer_codings(response);
    if (codings.size() != 1 || !beast::iequals(codings.front(), "chunked")) {
      result.outcome = Outcome::Unframeable;
      result.detail = "Transfer-Encoding: " + std::string(response[http::field::transfer_encoding]);
      target.report_failure("unframeable response (" + result.detail + ")");
      co_return result;
    }
    response.erase(http::field::transfer_encoding);
    response.chunked(true);
  }
  const unsigned status = response.result_int();
  if (status >= 500) {
    target.report_failure("status " + std::to_string(status));
  } else {
    target.report_success();
  }
  exchange.status = static_cast<int>(status);
  const bool upstream_reusable = response.keep_alive();
  const bool eof_delimited = !exchange.head && status != 204 && status != 304 && !response.chunked() &&
                             !response.has_content_length();

  remove_hop_by_hop(response, false);
  response.version(11);
  if (eof_delimited) response.chunked(true);  // the client's connection can stay open
  for (const auto& [name, value] : exchange.response_headers) response.set(name, value);
  response.set("X-Request-Id", exchange.request_id);
  bool client_keep_alive = exchange.client_keep_alive && !client.session.stopping();
  response.keep_alive(client_keep_alive);

  http::serializer<false, http::buffer_body> serializer{response};
  response.body().data = nullptr;
  response.body().size = 0;
  response.body().more = !response_parser->is_done();
  client.session.expires_after(exchange.client_timeout);
  watchdog.disarm();
  {
    auto [ec, n] = co_await http::async_write_header(client.socket, serializer, kUseTuple);
    if (ec) {
      result.outcome = Outcome::ClientGone;
      co_return result;
    }
  }
  while (!serializer.is_done()) {
    if (!response_parser->is_done()) {
      response.body().data = chunk.data();
      response.body().size = chunk.size();
      arm_upstream();
      auto [ec, n] = co_await http::async_read_some(upstream, upstream_buffer, *response_parser, kUseTuple);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        result.outcome = Outcome::BrokenMidway;
        result.detail =
            (watchdog.fired() ? std::string("timed out") : ec.message()) + " in the response body";
        target.report_failure(result.detail);
        co_return result;
      }
      response.body().size = chunk.size() - response.body().size;
      response.body().data = chunk.data();
      response.body().more = !response_parser->is_done();
      if (response.body().size == 0 && response.body().more) continue;
    } else {
      response.body().data = nullptr;
      response.body().size = 0;
      response.body().more = false;
    }
    client.session.expires_after(exchange.client_timeout);
    watchdog.disarm();
    auto [ec, n] = co_await http::async_write(client.socket, serializer, kUseTuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      result.outcome = Outcome::ClientGone;
      co_return result;
    }
  }
  watchdog.disarm();
  watchdog.watch(nullptr);
  // Only a connection with nothing unread on it can carry the next request.
  if (upstream_reusable && !eof_delimited && upstream_buffer.size() == 0 && parser.is_done()) {
    target.give_back(std::move(upstream));
  }
  result.outcome = Outcome::Done;
  result.client_reusable = client_keep_alive && parser.is_done();
  co_return result;
}

}  // namespace

Task<bool> proxy_http(Exchange& exchange) {
  auto& route = exchange.route;
  auto& client = exchange.client;
  auto& request = client.parser.get();
  const bool has_body = !client.parser.is_done();
  const bool may_retry = idempotent(request.method()) && !has_body;

  std::string hash_key;
  if (route.options.balance == Balance::Hash) {
    if (route.options.hash_on.starts_with("header:")) {
      hash_key = std::string(request[std::string_view(route.options.hash_on).substr(7)]);
    } else {
      hash_key = exchange.client_ip;
    }
  }

  auto executor = co_await asio::this_coro::executor;
  auto& context = client.socket.get_executor().context();
  Watchdog watchdog(executor);
  // Not value-initialised: zeroing 64 KiB per request was 5% of the proxy's time.
  auto chunk = std::make_unique_for_overwrite<std::array<char, kChunk>>();
  std::vector<int> tried;
  int retries_left = route.retries;
  std::string last_error = "no healthy target";
  bool timed_out = false;
  bool prepared_for = false;
  std::string prepared_target;

  for (;;) {
    int index = route.balancer->choose(hash_key, tried);
    if (index < 0) break;
    tried.push_back(index);
    Target& target = *route.balancer->targets()[index];
    exchange.target_url = target.address().url;
    if (!prepared_for || prepared_target != target.address().url) {
      prepare_upstream_request(exchange, target.address());
      prepared_for = true;
      prepared_target = target.address().url;
    }

    target.active().fetch_add(1, std::memory_order_relaxed);
    struct ActiveGuard {
      Target& target;
      ~ActiveGuard() { target.active().fetch_sub(1, std::memory_order_relaxed); }
    } guard{target};

    // A pooled connection the upstream closed at the moment we reused it fails before any
    // answer: try a fresh one to the same target once, which is no sign of ill health.
    bool give_up = false;
    for (int fresh = 0; fresh < 2; ++fresh) {
      std::optional<tcp::socket> pooled = fresh == 0 ? target.take_idle(context) : std::nullopt;
      const bool reused = pooled.has_value();
      tcp::socket upstream = reused ? std::move(*pooled) : tcp::socket(client.socket.get_executor());
      if (!reused) {
        auto op = connect(upstream, target.address(), watchdog, route.options.proxy_timeout);
        auto ec = co_await std::move(op);
        if (ec) {
          // Nothing was sent: another target may take any request.
          timed_out = watchdog.fired();
          last_error = timed_out ? "connecting to " + target.address().url + " timed out"
                                 : "cannot connect to " + target.address().url + ": " + ec.message();
          target.report_failure(last_error);
          spdlog::warn("event=upstream_failed request_id={} target={} error=\"{}\"", exchange.request_id,
                       target.address().url, last_error);
          break;
        }
        upstream.set_option(tcp::no_delay(true), ec);
      } else {
        watchdog.watch(&upstream);
      }
      auto op = attempt(exchange, target, upstream, watchdog, *chunk, reused);
      Attempt result = co_await std::move(op);
      switch (result.outcome) {
        case Outcome::Done:
          co_return result.client_reusable;
        case Outcome::ClientGone:
          co_return false;
        case Outcome::BrokenMidway:
          spdlog::warn("event=upstream_failed request_id={} target={} error=\"{}\"", exchange.request_id,
                       target.address().url, result.detail);
          co_return false;
        case Outcome::Unframeable: {
          spdlog::warn("event=upstream_failed request_id={} target={} error=\"unframeable response: {}\"",
                       exchange.request_id, target.address().url, result.detail);
          auto reply_op =
              reply_error(exchange, bad_gateway("The upstream's response cannot be relayed: it has " +
                                                result.detail + "; only chunked is relayed"));
          co_return co_await std::move(reply_op);
        }
        case Outcome::TooLarge: {
          auto reply_op =
              reply_error(exchange, payload_too_large("Request body is larger than " +
                                                      std::to_string(route.options.body_limit) + " bytes"));
          co_await std::move(reply_op);
          co_return false;
        }
        default:
          break;
      }
      timed_out = result.outcome == Outcome::Timeout;
      if (reused && !timed_out && !result.body_started && fresh == 0) continue;
      last_error = timed_out ? "no answer from " + target.address().url + " within " +
                                   std::to_string(route.options.proxy_timeout.count()) + " ms"
                             : target.address().url + " closed the connection without answering (" +
                                   result.detail + ")";
      target.report_failure(last_error);
      spdlog::warn("event=upstream_failed request_id={} target={} error=\"{}\"", exchange.request_id,
                   target.address().url, last_error);
      // A request that was sent may have been acted on: only idempotent ones go elsewhere.
      give_up = !may_retry || result.body_started;
      break;
    }
    if (give_up || retries_left-- <= 0) break;
  }
  if (tried.empty()) {
    auto op = reply_error(exchange, unavailable("No healthy upstream target for " + route.options.match +
                                                "; every target failed its health checks"));
    co_return co_await std::move(op);
  }
  if (timed_out) {
    auto op = reply_gateway_timeout(exchange, "The upstream did not answer in time: " + last_error);
    co_return co_await std::move(op);
  }
  auto op = reply_error(exchange, bad_gateway("The upstream could not be reached: " + last_error));
  co_return co_await std::move(op);
}

}  // namespace plume::gateway
