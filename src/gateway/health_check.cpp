#include "gateway/health_check.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace plume::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// The probe's verdict: empty when healthy (2xx or 3xx, Kong's healthy statuses), else why not.
Task<std::string> probe(const TargetAddress& address, const HealthCheckOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(address.host, std::to_string(address.port), kUseTuple);
  if (resolve_error) co_return "cannot resolve: " + resolve_error.message();
  stream.expires_after(options.timeout);
  auto [connect_error, endpoint] = co_await stream.async_connect(endpoints, kUseTuple);
  if (connect_error) co_return "cannot connect: " + connect_error.message();
  http::request<http::empty_body> request{http::verb::get, address.base_path + options.path, 11};
  request.set(http::field::host, address.host_header);
  request.set(http::field::user_agent, "plume-gateway-health-check");
  request.keep_alive(false);
  stream.expires_after(options.timeout);
  auto [write_error, written] = co_await http::async_write(stream, request, kUseTuple);
  if (write_error) co_return "cannot send the probe: " + write_error.message();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
  if (read_error) co_return "no answer to the probe: " + read_error.message();
  const unsigned status = parser.get().result_int();
  if (status >= 200 && status < 400) co_return "";
  co_return "probe answered " + std::to_string(status);
}

}  // namespace

Task<void> run_health_checks(Gateway::State* state, std::shared_ptr<Target> target,
                             HealthCheckOptions options) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  while (!state->stopped.load()) {
    auto op = probe(target->address(), options);
    std::string verdict = co_await std::move(op);
    target->report_probe(verdict.empty(), verdict);
    timer.expires_after(options.interval);
    auto [ec] = co_await timer.async_wait(kUseTuple);
    if (ec) co_return;
  }
}

}  // namespace plume::gateway
