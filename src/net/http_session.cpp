// One connection, one coroutine, as in Beast's examples: a timeout before every read, requests
// answered one after the other (so pipelined requests are answered in order), keep-alive unless
// the client or a stopping server says otherwise.
#include "net/request_head.hpp"
#include "net/worker.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <limits>
#include <optional>

namespace plume::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 8 * 1024;
// Bounds of the drain after a rejection.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::size_t kLingerBytes = 4 * 1024 * 1024;

// Keeps a session in its worker's list for the stop procedure, whatever way the coroutine ends
// (including destruction of a suspended coroutine when the server is torn down).
class SessionRegistration final : public SessionControl {
 public:
  SessionRegistration(Worker& worker, tcp::socket& socket) : worker_(worker) {
    worker_.sessions.push_front(SessionHandle{&socket, false});
    handle_ = worker_.sessions.begin();
    worker_.shared.connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~SessionRegistration() {
    set_busy(false);
    worker_.sessions.erase(handle_);
    worker_.shared.connections.fetch_sub(1, std::memory_order_relaxed);
  }
  SessionRegistration(const SessionRegistration&) = delete;
  SessionRegistration& operator=(const SessionRegistration&) = delete;

  // The next read or write must complete within `timeout`, else the sweep closes the socket.
  void expires_after(std::chrono::milliseconds timeout) override {
    handle_->deadline = std::chrono::steady_clock::now() + timeout;
  }
  void expires_at(std::chrono::steady_clock::time_point deadline) override { handle_->deadline = deadline; }
  void expires_never() override { handle_->deadline = std::chrono::steady_clock::time_point::max(); }
  bool stopping() const override { return worker_.stopping; }

  void set_busy(bool busy) override {
    if (handle_->busy == busy) return;
    handle_->busy = busy;
    if (busy) {
      worker_.in_flight.store(worker_.in_flight.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
    } else {
      worker_.in_flight.store(worker_.in_flight.load(std::memory_order_relaxed) - 1,
                              std::memory_order_relaxed);
    }
  }

 private:
  Worker& worker_;
  std::list<SessionHandle>::iterator handle_;
};

// The reply to a request the parser rejected, or nullopt when the connection just ended
// (client closed, timed out, server stopping).
std::optional<Error> protocol_error(const beast::error_code& ec, const HttpServerOptions& options) {
  if (ec == http::error::body_limit) {
    return Error(ErrorCode::PayloadTooLarge,
                 "Request body is larger than " + std::to_string(options.body_limit) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return Error(ErrorCode::HeaderFieldsTooLarge,
                 "Request headers are larger than " + std::to_string(options.header_limit) + " bytes");
  }
  // Any other parser error is a malformed request; end_of_stream and partial_message only mean
  // the client went away.
  if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return Error(ErrorCode::BadRequest, "Malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

// Feeds the buffered bytes to the parser until it needs more or the message (or, with
// `head_only`, its head) is complete. The parser stops after the head by itself (not eager), so
// a streamed request's body is still unread when the head is done.
beast::error_code parse_buffered(http::request_parser<http::string_body>& parser, beast::flat_buffer& buffer,
                                 bool head_only) {
  beast::error_code ec;
  while (buffer.size() > 0 && !parser.is_done() && !(head_only && parser.is_header_done())) {
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more) return {};
    if (ec) return ec;
    if (used == 0) break;
  }
  return {};
}

// RFC 9112 2.2: empty lines before a request line are ignored (a client may end a body with an
// extra CRLF). The number of leading CRLF or LF bytes in the buffer.
std::size_t empty_line_prefix(const beast::flat_buffer& buffer) {
  std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
  std::size_t n = 0;
  while (n < data.size()) {
    if (data[n] == '\n') {
      ++n;
    } else if (data[n] == '\r' && n + 1 < data.size() && data[n + 1] == '\n') {
      n += 2;
    } else {
      break;
    }
  }
  return n;
}

// The buffer holds the start of a request line (a lone CR may still become an empty line).
bool request_started(const beast::flat_buffer& buffer) {
  return buffer.size() > 1 || (buffer.size() == 1 && *static_cast<const char*>(buffer.data().data()) != '\r');
}

std::string remote_of(const tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

Task<void> run_session(Worker& worker, tcp::socket accepted) {
  const HttpServerOptions& options = worker.shared.options;
  tcp::socket socket(std::move(accepted));
  beast::error_code option_error;
  socket.set_option(tcp::no_delay(true), option_error);
  ConnectionInfo connection{remote_of(socket)};
  SessionRegistration registration(worker, socket);
  beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;

  // Writes a rejection and ends the connection: after a parse error the socket position is lost.
  // The client may still be sending (a body over the limit): closing with unread bytes would
  // reset the connection and could destroy the reply before the client reads it, so the rest
  // is read and dropped for a moment first (a "lingering close").
  auto reject = [&](const Error& error, unsigned version) -> Task<void> {
    auto response = error_response(error, version == 10 ? 10 : 11, false);
    registration.expires_after(options.header_timeout);
    auto [ec, n] = co_await http::async_write(socket, response, kUseTuple);
    if (ec) co_return;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    registration.expires_after(std::min<std::chrono::milliseconds>(options.header_timeout, kLingerTime));
    std::size_t drained = 0;
    while (drained < kLingerBytes) {
      auto [read_error, size] = co_await socket.async_read_some(buffer.prepare(kReadChunk), kUseTuple);
      if (read_error) break;
      drained += size;
    }
  };

  for (bool first = true; !worker.stopping; first = false) {
    registration.set_busy(false);

    // The wait for a request: header_timeout on a new connection, idle_timeout between
    // keep-alive requests; once bytes arrive the head must complete within header_timeout.
    // Empty lines do not start a request, but they count against the header limit.
    bool waiting = false;
    bool ended = false;
    std::size_t empty_lines = 0;
    for (;;) {
      const std::size_t skipped = empty_line_prefix(buffer);
      buffer.consume(skipped);
      empty_lines += skipped;
      if (empty_lines > options.header_limit) {
        ended = true;
        break;
      }
      if (request_started(buffer)) break;
      if (!waiting) {
        registration.expires_after(first ? options.header_timeout : options.idle_timeout);
        waiting = true;
      }
      auto [ec, n] = co_await socket.async_read_some(buffer.prepare(kReadChunk), kUseTuple);
      if (ec) {
        ended = true;
        break;
      }
      buffer.commit(n);
    }
    if (ended) break;
    if (!first) registration.expires_after(options.header_timeout);

    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(options.header_limit));
    // Beast checks Content-Length against the body limit while parsing the head; a streamed
    // request has its own limit, so the server's applies only once the head is known.
    parser->body_limit(options.select_stream ? std::numeric_limits<std::uint64_t>::max()
                                             : options.body_limit);
    // Most requests arrive whole in one read: parse what is buffered first, so that the common
    // case costs no further asynchronous operation (each one is a trip through the scheduler).
    if (auto ec = parse_buffered(*parser, buffer, true)) {
      if (auto error = protocol_error(ec, options)) {
        co_await reject(*error, parser->get().version());
      }
      break;
    }
    if (!parser->is_header_done()) {
      auto [ec, n] = co_await http::async_read_header(socket, buffer, *parser, kUseTuple);
      if (ec) {
        if (auto error = protocol_error(ec, options)) {
          co_await reject(*error, parser->get().version());
        }
        break;
      }
    }
    // Before any route sees the request, streamed ones included: a framing a proxy and its
    // upstream could read differently, an ambiguous Host, a path that is not canonical.
    if (auto refused = admit_request_head(parser->get())) {
      co_await reject(*refused, parser->get().version());
      break;
    }
    registration.set_busy(true);

    if (options.select_stream) {
      if (const StreamHandler* stream = options.select_stream(parser->get())) {
        // The body stays unread: the handler streams it with a parser of its own body type,
        // which takes over the head (Beast allows this until body octets were parsed).
        http::request_parser<http::buffer_body> streamed(std::move(*parser));
        parser.reset();
        StreamExchange exchange{socket, buffer, streamed, connection, registration};
        bool reusable = false;
        try {
          reusable = co_await (*stream)(exchange);
        } catch (...) {
          auto error = Error::from_exception(std::current_exception());
          spdlog::error("event=stream_handler_failed method={} target={} error=\"{}\"",
                        std::string_view(streamed.get().method_string()),
                        std::string_view(streamed.get().target()), error.message());
        }
        if (!reusable) break;
        continue;
      }
    }

    if (options.select_stream) {
      parser->body_limit(options.body_limit);
      if (auto length = parser->content_length(); length && *length > options.body_limit) {
        co_await reject(*protocol_error(http::error::body_limit, options), parser->get().version());
        break;
      }
    }
    if (auto ec = parse_buffered(*parser, buffer, false)) {
      if (auto error = protocol_error(ec, options)) {
        co_await reject(*error, parser->get().version());
      }
      break;
    }
    Request& request = parser->get();

    if (!parser->is_done()) {
      // RFC 9110 10.1.1: a client that sent Expect: 100-continue waits for this before the body.
      if (beast::iequals(request[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, request.version()};
        registration.expires_after(options.body_timeout);
        auto [ec, n] = co_await http::async_write(socket, go_on, kUseTuple);
        if (ec) break;
      }
      registration.expires_after(options.body_timeout);
      auto [ec, n] = co_await http::async_read(socket, buffer, *parser, kUseTuple);
      if (ec) {
        if (auto error = protocol_error(ec, options)) {
          co_await reject(*error, request.version());
        }
        break;
      }
    }

    // A service call has no deadline of its own; the connection waits for it.
    registration.expires_never();
    Response response;
    try {
      response = co_await worker.shared.handler(request, connection);
    } catch (...) {
      // Handlers answer their own errors; this is the last line of defence.
      auto error = Error::from_exception(std::current_exception());
      spdlog::error("event=handler_failed method={} target={} error=\"{}\"",
                    std::string_view(request.method_string()), std::string_view(request.target()),
                    error.message());
      response = error_response(error, request.version(), request.keep_alive());
    }

    if (auto* upgrade = std::get_if<Upgrade>(&response)) {
      // The upgraded protocol keeps its own time (pings) and ends the connection itself.
      registration.set_busy(false);
      registration.expires_never();
      try {
        co_await upgrade->run(socket, buffer, request);
      } catch (...) {
        auto error = Error::from_exception(std::current_exception());
        spdlog::error("event=upgrade_failed target={} error=\"{}\"", std::string_view(request.target()),
                      error.message());
      }
      break;
    }

    bool keep_alive = false;
    registration.expires_after(options.body_timeout);
    beast::error_code write_error;
    if (auto* json = std::get_if<StringResponse>(&response)) {
      if (worker.stopping) json->keep_alive(false);
      keep_alive = json->keep_alive();
      std::tie(write_error, std::ignore) = co_await http::async_write(socket, *json, kUseTuple);
    } else {
      auto& file = std::get<FileResponse>(response);
      if (worker.stopping) file.keep_alive(false);
      keep_alive = file.keep_alive();
      std::tie(write_error, std::ignore) = co_await http::async_write(socket, file, kUseTuple);
    }
    if (write_error || !keep_alive) break;
  }

  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

}  // namespace plume::net
