// The HTTP vocabulary shared by the server's sessions and the handlers behind them: Beast request
// and response types, the handler signature, and Feathers-shaped JSON replies.
#pragma once

#include <plume/core/error.hpp>
#include <plume/core/task.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace plume::net {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using StringResponse = http::response<http::string_body>;
using FileResponse = http::response<http::file_body>;
// A reply that takes the connection over (a WebSocket upgrade): the session hands `run` the
// socket, the bytes read past the request and the request, on the connection's own thread, and
// the connection ends when `run` returns. The socket stays the session's, so the server's stop
// procedure closes it like an idle connection.
struct Upgrade {
  std::function<Task<void>(boost::asio::ip::tcp::socket& socket, boost::beast::flat_buffer& buffer,
                           Request& request)>
      run;
};
// Most replies are JSON strings; static files stream from disk.
using Response = std::variant<StringResponse, FileResponse, Upgrade>;

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// What a handler knows about the connection a request came on.
struct ConnectionInfo {
  std::string remote;  // "127.0.0.1:53422"
};

using Handler = std::function<Task<Response>(Request& request, const ConnectionInfo& connection)>;

// The session's side of a streamed exchange: its deadline (checked by the server's sweep, which
// closes the socket when it passes) and whether the exchange counts as in flight for a graceful
// stop (a tunnel that lives for hours should not hold the stop up: mark it not busy).
class SessionControl {
 public:
  virtual void expires_at(std::chrono::steady_clock::time_point deadline) = 0;
  virtual void expires_after(std::chrono::milliseconds timeout) = 0;
  virtual void expires_never() = 0;
  virtual void set_busy(bool busy) = 0;
  // The server is stopping: answer the current request with Connection: close.
  virtual bool stopping() const = 0;

 protected:
  ~SessionControl() = default;
};

// A request handed over right after its head, before any of its body is read, for handlers that
// stream bodies through (a proxy) instead of holding them in memory. `parser` holds the head;
// the handler reads the body with it from `socket` and `buffer` (bytes already read), writes the
// whole response itself and leaves in `buffer` whatever follows the request (pipelining).
struct StreamExchange {
  boost::asio::ip::tcp::socket& socket;
  boost::beast::flat_buffer& buffer;
  http::request_parser<http::buffer_body>& parser;
  const ConnectionInfo& connection;
  SessionControl& session;
};
// Resolves to true when the request was read to its end and answered in full, so the connection
// can carry the next request; false closes it.
using StreamHandler = std::function<Task<bool>(StreamExchange& exchange)>;
// Picks the streaming handler for a request head, or nullptr to read the body and call the
// Handler as usual. The handler must outlive the server.
using StreamSelector = std::function<const StreamHandler*(const Request& head)>;

// A JSON reply with Content-Type and Content-Length set.
StringResponse json_response(http::status status, std::string body, unsigned version, bool keep_alive);
// A Feathers error as its JSON shape with status = code.
StringResponse error_response(const Error& error, unsigned version, bool keep_alive);

}  // namespace plume::net
