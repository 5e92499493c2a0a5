// A connection's byte stream: the TCP socket itself, or TLS over it (Asio's ssl::stream on
// OpenSSL), chosen at run time, so that one Beast code path (HTTP, WebSocket) serves both. The
// socket stays its owner's; this only reads and writes through it.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <optional>
#include <utility>

namespace plume::net {

class PlainOrTlsStream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using tls_type = boost::asio::ssl::stream<socket_type&>;
  using executor_type = socket_type::executor_type;

  // Plain: reads and writes go straight to the socket.
  explicit PlainOrTlsStream(socket_type& socket) : socket_(socket) {}
  // TLS over the socket with `context` (which must outlive the stream), or plain when it is
  // null; run tls()->async_handshake before anything else.
  PlainOrTlsStream(socket_type& socket, boost::asio::ssl::context* context) : socket_(socket) {
    if (context != nullptr) tls_.emplace(socket, *context);
  }

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  // The TCP socket under everything (Beast's get_lowest_layer finds it here).
  socket_type& next_layer() noexcept { return socket_; }
  const socket_type& next_layer() const noexcept { return socket_; }
  bool is_tls() const noexcept { return tls_.has_value(); }
  tls_type* tls() noexcept { return tls_ ? &*tls_ : nullptr; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& buffers) {
          if (tls_) {
            tls_->async_read_some(buffers, std::move(handler));
          } else {
            socket_.async_read_some(buffers, std::move(handler));
          }
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& buffers) {
          if (tls_) {
            tls_->async_write_some(buffers, std::move(handler));
          } else {
            socket_.async_write_some(buffers, std::move(handler));
          }
        },
        token, buffers);
  }

 private:
  socket_type& socket_;
  std::optional<tls_type> tls_;
};

// Beast's WebSocket closing handshake ends with a teardown of the stream below it. Over TLS this
// tears down the TCP socket alone, without TLS's close_notify exchange: the close frames,
// inside TLS, already end the stream authenticated, and a second closing handshake would turn a
// peer still sending (the rest of a frame over the limit) into a TLS error that hides the reason.
inline void teardown(boost::beast::role_type role, PlainOrTlsStream& stream, boost::system::error_code& ec) {
  boost::beast::websocket::teardown(role, stream.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, PlainOrTlsStream& stream, TeardownHandler&& handler) {
  boost::beast::websocket::async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace plume::net
