#include "gateway/exchange.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

namespace plume::gateway {
namespace asio = boost::asio;
namespace http = net::http;

namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kDrainBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kDrainTime{1000};
}  // namespace

struct Watchdog::Shared {
  explicit Shared(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  asio::ip::tcp::socket* socket = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool waiting = false;
  bool fired = false;
};

namespace {
void wait_for(const std::shared_ptr<Watchdog::Shared>& shared);
}

Watchdog::Watchdog(const asio::any_io_executor& executor) : shared_(std::make_shared<Shared>(executor)) {}

Watchdog::~Watchdog() {
  shared_->socket = nullptr;
  if (shared_->waiting) shared_->timer.cancel();
}

void Watchdog::watch(asio::ip::tcp::socket* socket) {
  shared_->socket = socket;
  shared_->fired = false;
}

void Watchdog::arm(std::chrono::milliseconds timeout) {
  shared_->deadline = std::chrono::steady_clock::now() + timeout;
  if (!shared_->waiting) {
    shared_->timer.expires_at(shared_->deadline);
    wait_for(shared_);
  }
}

void Watchdog::disarm() { shared_->deadline = std::chrono::steady_clock::time_point::max(); }

bool Watchdog::fired() const { return shared_->fired; }

namespace {
void wait_for(const std::shared_ptr<Watchdog::Shared>& shared) {
  shared->waiting = true;
  shared->timer.async_wait([shared](const boost::system::error_code& ec) {
    shared->waiting = false;
    if (ec || shared->socket == nullptr) return;
    auto now = std::chrono::steady_clock::now();
    if (shared->deadline == std::chrono::steady_clock::time_point::max()) return;
    if (now < shared->deadline) {
      shared->timer.expires_at(shared->deadline);
      wait_for(shared);
      return;
    }
    shared->fired = true;
    boost::system::error_code ignored;
    shared->socket->close(ignored);
  });
}
}  // namespace

void remove_hop_by_hop(http::fields& fields, bool keep_upgrade) {
  // Fields named in Connection are connection-specific too.
  std::vector<std::string> named;
  for (auto it = fields.find(http::field::connection);
       it != fields.end() && it->name() == http::field::connection; ++it) {
    for (auto token : http::token_list(it->value())) {
      std::string name(token.data(), token.size());
      if (keep_upgrade && boost::beast::iequals(name, "upgrade")) continue;
      named.push_back(std::move(name));
    }
  }
  for (const auto& name : named) fields.erase(name);
  if (!keep_upgrade) {
    fields.erase(http::field::connection);
    fields.erase(http::field::upgrade);
  }
  fields.erase(http::field::keep_alive);
  fields.erase("Proxy-Connection");
  fields.erase(http::field::te);
  fields.erase(http::field::trailer);
}

Task<bool> reply(Exchange& exchange, http::status status, std::string body, Headers extra) {
  auto& client = exchange.client;
  const bool body_unread = !client.parser.is_done();
  const bool keep_alive = exchange.client_keep_alive && !body_unread && !client.session.stopping();
  net::StringResponse response{status, 11};
  if (!body.empty()) response.set(http::field::content_type, net::kJsonContentType);
  for (const auto& [name, value] : exchange.response_headers) response.set(name, value);
  for (const auto& [name, value] : extra) response.set(name, value);
  response.set("X-Request-Id", exchange.request_id);
  response.body() = std::move(body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  if (exchange.head) response.body().clear();
  exchange.status = static_cast<int>(status);
  client.session.expires_after(exchange.client_timeout);
  auto [ec, n] = co_await http::async_write(client.socket, response, kUseTuple);
  if (ec) co_return false;
  if (keep_alive) co_return true;
  if (body_unread) {
    // A lingering close: closing with unread bytes would reset the connection and could destroy
    // the reply before the client reads it.
    client.socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    client.session.expires_after(kDrainTime);
    std::size_t drained = 0;
    char sink[16 * 1024];
    while (drained < kDrainBytes) {
      auto [read_error, size] = co_await client.socket.async_read_some(asio::buffer(sink), kUseTuple);
      if (read_error) break;
      drained += size;
    }
  }
  co_return false;
}

Task<bool> reply_error(Exchange& exchange, Error error) {
  exchange.error = error.message();
  auto op = reply(exchange, static_cast<http::status>(error.status()), to_json_text(error.to_json()));
  co_return co_await std::move(op);
}

Task<bool> reply_gateway_timeout(Exchange& exchange, std::string message) {
  exchange.error = message;
  JsonObject body{{"name", "GatewayTimeout"},
                  {"message", std::move(message)},
                  {"code", 504},
                  {"className", "gateway-timeout"}};
  auto op = reply(exchange, http::status::gateway_timeout, to_json_text(Json(std::move(body))));
  co_return co_await std::move(op);
}

}  // namespace plume::gateway
