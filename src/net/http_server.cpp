#include "net/http_server.hpp"

#include "net/worker.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <stdexcept>

namespace plume::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

thread_local const HttpServer* current_server = nullptr;

tcp::acceptor open_acceptor(asio::io_context& ioc, const tcp::endpoint& endpoint) {
  tcp::acceptor acceptor(ioc);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  // Every I/O thread has its own acceptor on the same port; the kernel spreads connections.
  acceptor.set_option(ReusePort(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

// SO_REUSEPORT would let a second node on the same port start quietly and take half the traffic.
// A bind without it fails while anyone listens on the port, so probe with one first.
void ensure_port_free(asio::io_context& ioc, const tcp::endpoint& endpoint) {
  tcp::acceptor probe(ioc);
  probe.open(endpoint.protocol());
  probe.set_option(tcp::acceptor::reuse_address(true));
  probe.bind(endpoint);
}

}  // namespace

void Worker::close_idle_sessions() {
  boost::system::error_code ignored;
  for (auto& session : sessions) {
    if (!session.busy) session.socket->close(ignored);
  }
}

void Worker::close_all_sessions() {
  boost::system::error_code ignored;
  for (auto& session : sessions) session.socket->close(ignored);
}

void Worker::close_expired_sessions(std::chrono::steady_clock::time_point now) {
  boost::system::error_code ignored;
  for (auto& session : sessions) {
    if (session.deadline <= now && session.socket->is_open()) session.socket->close(ignored);
  }
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : options_(std::move(options)),
      shared_(std::make_unique<SharedServerState>(options_, std::move(handler))) {
  if (options_.threads == 0) options_.threads = std::max(1u, std::thread::hardware_concurrency());
}

HttpServer::~HttpServer() {
  stop();
  wait();
}

std::size_t HttpServer::connections() const noexcept {
  return shared_->connections.load(std::memory_order_relaxed);
}

std::size_t HttpServer::requests_in_flight() const noexcept {
  std::size_t total = 0;
  for (const auto& worker : workers_) total += worker->in_flight.load(std::memory_order_relaxed);
  return total;
}

std::uint16_t HttpServer::start() {
  {
    std::lock_guard lock(state_mutex_);
    if (state_ != State::Idle) throw std::logic_error("HttpServer::start called twice");
    state_ = State::Running;
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                             ": invalid address (" + ec.message() + ")");
  }
  tcp::endpoint endpoint(address, options_.port);
  try {
    if (endpoint.port() != 0) {
      asio::io_context probe_context;
      ensure_port_free(probe_context, endpoint);
    }
    for (std::size_t i = 0; i < options_.threads; ++i) {
      auto worker = std::make_unique<Worker>(*shared_, i);
      worker->acceptor.emplace(open_acceptor(worker->ioc, endpoint));
      // Port 0 asks the kernel for a port once; the other acceptors join that port.
      if (i == 0) endpoint.port(worker->acceptor->local_endpoint().port());
      workers_.push_back(std::move(worker));
    }
  } catch (const boost::system::system_error& error) {
    workers_.clear();
    std::lock_guard lock(state_mutex_);
    state_ = State::Stopped;
    state_changed_.notify_all();
    throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                             ": " + error.code().message());
  }
  port_.store(endpoint.port());

  for (auto& worker : workers_) {
    worker->work.emplace(worker->ioc.get_executor());
    asio::co_spawn(worker->ioc, accept_loop(*worker), asio::detached);
    asio::co_spawn(worker->ioc, sweep_loop(*worker), asio::detached);
    threads_.emplace_back([this, w = worker.get()] {
      current_server = this;
      if (options_.thread_init) options_.thread_init(w->index);
      w->ioc.run();
    });
  }
  return endpoint.port();
}

Task<void> HttpServer::accept_loop(Worker& worker) {
  while (worker.acceptor && worker.acceptor->is_open()) {
    auto [ec, socket] = co_await worker.acceptor->async_accept(kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !worker.acceptor->is_open()) co_return;
      // Out of descriptors or a connection reset before accept: back off briefly, keep serving.
      spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
      asio::steady_timer pause(worker.ioc, std::chrono::milliseconds(10));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    if (shared_->connections.load(std::memory_order_relaxed) >= options_.max_connections) {
      socket.close();
      continue;
    }
    asio::co_spawn(worker.ioc, run_session(worker, std::move(socket)), asio::detached);
  }
}

Task<void> HttpServer::sweep_loop(Worker& worker) {
  // A quarter of the shortest timeout, so a timeout fires at most 25% late.
  auto tick = std::min({options_.header_timeout, options_.body_timeout, options_.idle_timeout}) / 4;
  tick = std::clamp<std::chrono::milliseconds>(tick, std::chrono::milliseconds(5),
                                               std::chrono::milliseconds(250));
  worker.sweep_timer.emplace(worker.ioc);
  while (!worker.stopping) {
    worker.sweep_timer->expires_after(tick);
    auto [ec] = co_await worker.sweep_timer->async_wait(kUseTuple);
    if (ec) co_return;
    worker.close_expired_sessions(std::chrono::steady_clock::now());
  }
}

bool HttpServer::on_io_thread() const { return current_server == this; }

void HttpServer::stop() {
  {
    std::lock_guard lock(state_mutex_);
    if (state_ == State::Idle) {
      state_ = State::Stopped;
      state_changed_.notify_all();
      return;
    }
    if (state_ != State::Running) return;
    state_ = State::Stopping;
  }
  // Blocking for the grace period on an I/O thread would stall the requests we wait for.
  if (on_io_thread()) {
    stopper_ = std::thread([this] { stop_now(); });
  } else {
    stop_now();
  }
}

void HttpServer::stop_now() {
  for (auto& worker : workers_) {
    asio::post(worker->ioc, [w = worker.get()] {
      w->stopping = true;
      boost::system::error_code ignored;
      if (w->acceptor) w->acceptor->close(ignored);
      w->close_idle_sessions();
    });
  }
  // In-flight requests finish and their sessions close after answering (Connection: close).
  auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  while (shared_->connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (shared_->connections.load() > 0) {
    spdlog::warn("event=shutdown_grace_expired connections={}", shared_->connections.load());
  }
  for (auto& worker : workers_) {
    asio::post(worker->ioc, [w = worker.get()] {
      w->close_all_sessions();
      if (w->sweep_timer) w->sweep_timer->cancel();
      w->work.reset();
      w->ioc.stop();
    });
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  // Destroys whatever coroutines did not finish, while the handler they use is still alive.
  workers_.clear();

  std::lock_guard lock(state_mutex_);
  state_ = State::Stopped;
  state_changed_.notify_all();
}

void HttpServer::wait() {
  {
    std::unique_lock lock(state_mutex_);
    state_changed_.wait(lock, [this] { return state_ == State::Stopped; });
  }
  if (stopper_.joinable() && stopper_.get_id() != std::this_thread::get_id()) stopper_.join();
}

}  // namespace plume::net
