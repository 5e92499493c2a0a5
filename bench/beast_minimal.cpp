// The HTTP ceiling for bench/run.sh: the least a Boost.Beast server can do per request. Every
// request, whatever its method and target, gets the same small JSON body on a keep-alive
// connection. It runs one io_context per thread like plume, so the gap between the two is the
// cost of routing, queries, hooks and serialisation rather than of HTTP itself.
//
//   beast_minimal [--port 3103] [--threads N]     (N = 0: one per core)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// About the size of one stored message, as GET /messages/1 returns it.
constexpr std::string_view kBody =
    R"({"text":"message 1","userId":1,"createdAt":"2026-01-01T00:00:00.000Z","id":1})";

asio::awaitable<void> serve(tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  boost::system::error_code error;
  for (;;) {
    http::request<http::string_body> request;
    co_await http::async_read(socket, buffer, request, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      break;
    }
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "application/json; charset=utf-8");
    response.keep_alive(request.keep_alive());
    response.body() = kBody;
    response.prepare_payload();
    co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, error));
    if (error || !response.keep_alive()) {
      break;
    }
  }
  socket.shutdown(tcp::socket::shutdown_send, error);
}

// One acceptor; accepted sockets go round-robin to the per-thread io_contexts.
asio::awaitable<void> accept(tcp::acceptor& acceptor,
                             std::vector<std::unique_ptr<asio::io_context>>& contexts) {
  for (std::size_t next = 0;; ++next) {
    auto& context = *contexts[next % contexts.size()];
    tcp::socket socket = co_await acceptor.async_accept(context, asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(context, serve(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 3103;
  std::size_t threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--port") {
      port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    } else if (flag == "--threads") {
      threads = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    } else {
      std::cerr << "usage: beast_minimal [--port N] [--threads N]\n";
      return EXIT_FAILURE;
    }
  }
  if (threads == 0) {
    threads = std::max(1u, std::thread::hardware_concurrency());
  }

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (std::size_t i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
  }
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  for (auto& context : contexts) {
    work.push_back(asio::make_work_guard(*context));
  }

  auto& main_context = *contexts.front();
  tcp::acceptor acceptor(main_context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(main_context, accept(acceptor, contexts), asio::detached);

  asio::signal_set signals(main_context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    for (auto& context : contexts) {
      context->stop();
    }
  });

  std::cout << "listening port=" << acceptor.local_endpoint().port() << " threads=" << threads << std::endl;
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < threads; ++i) {
    pool.emplace_back([&context = *contexts[i]] { context.run(); });
  }
  main_context.run();
  for (auto& thread : pool) {
    thread.join();
  }
  return EXIT_SUCCESS;
}
