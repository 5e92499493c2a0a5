// A TCP relay for tests: a client connects to the relay's port instead of the server's, and the
// test cuts the path (open connections closed, new ones refused) and restores it, so that one
// client loses its server while the others keep theirs.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace plume::mesh::testing {

class TcpRelay {
 public:
  explicit TcpRelay(std::uint16_t target_port) : target_port_(target_port) {
    open(0);
    port_ = acceptor_->local_endpoint().port();
    thread_ = std::thread([this] { context_.run(); });
  }
  ~TcpRelay() {
    boost::asio::post(context_, [this] { cut_now(); });
    guard_.reset();
    context_.stop();
    thread_.join();
  }

  std::uint16_t port() const noexcept { return port_; }

  // Closes every relayed connection and refuses new ones until restore().
  void cut() {
    std::promise<void> done;
    boost::asio::post(context_, [&] {
      cut_now();
      done.set_value();
    });
    done.get_future().wait();
  }
  void restore() {
    std::promise<void> done;
    boost::asio::post(context_, [&] {
      open(port_);
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  using tcp = boost::asio::ip::tcp;

  void open(std::uint16_t port) {
    acceptor_.emplace(context_);
    const tcp::endpoint endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), port);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(endpoint);
    acceptor_->listen();
    accept();
  }

  void cut_now() {
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    for (auto& socket : sockets_) socket->close(ignored);
    sockets_.clear();
  }

  void accept() {
    acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket client) {
      if (ec) return;
      auto downstream = std::make_shared<tcp::socket>(std::move(client));
      auto upstream = std::make_shared<tcp::socket>(context_);
      boost::system::error_code connect_ec;
      upstream->connect(tcp::endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), target_port_),
                        connect_ec);
      if (!connect_ec) {
        sockets_.push_back(downstream);
        sockets_.push_back(upstream);
        pump(downstream, upstream);
        pump(upstream, downstream);
      }
      accept();
    });
  }

  void pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    auto buffer = std::make_shared<std::array<char, 16384>>();
    from->async_read_some(
        boost::asio::buffer(*buffer), [this, from, to, buffer](boost::system::error_code ec, std::size_t n) {
          if (ec) {
            boost::system::error_code ignored;
            to->close(ignored);
            return;
          }
          boost::asio::async_write(*to, boost::asio::buffer(buffer->data(), n),
                                   [this, from, to, buffer](boost::system::error_code write_ec, std::size_t) {
                                     if (write_ec) {
                                       boost::system::error_code ignored;
                                       from->close(ignored);
                                       return;
                                     }
                                     pump(from, to);
                                   });
        });
  }

  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{context_.get_executor()};
  std::optional<tcp::acceptor> acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace plume::mesh::testing
