// The HTTP vocabulary shared by the server's sessions and the handlers behind them: Beast request
// and response types, the handler signature, and Feathers-shaped JSON replies.
#pragma once

#include <plume/core/error.hpp>
#include <plume/core/task.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

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

// A JSON reply with Content-Type and Content-Length set.
StringResponse json_response(http::status status, std::string body, unsigned version, bool keep_alive);
// A Feathers error as its JSON shape with status = code.
StringResponse error_response(const Error& error, unsigned version, bool keep_alive);

}  // namespace plume::net
