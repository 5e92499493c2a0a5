#include "redis/connection.hpp"

#include <plume/redis/client.hpp>

#include <boost/asio/use_awaitable.hpp>

namespace plume::redis {

namespace {

// The object users hold. Its connection lives on while its own coroutines run, so dropping
// the last reference closes the connection (failing what is pending) instead of leaving it
// reconnecting forever.
class ClientHandle final : public Client {
 public:
  explicit ClientHandle(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}
  ~ClientHandle() override { connection_->close(); }

  Task<Reply> command(std::vector<std::string> args) override {
    if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
    auto request = make_request({args});
    auto connection = connection_;
    auto op = async_submit(std::move(connection), std::move(request), boost::asio::use_awaitable);
    std::vector<Reply> replies = co_await std::move(op);
    if (replies.at(0).is_error()) throw ReplyError(replies[0].str);
    co_return std::move(replies[0]);
  }

  Task<std::vector<Reply>> pipeline(std::vector<std::vector<std::string>> commands) override {
    if (commands.empty()) co_return std::vector<Reply>{};
    for (const auto& args : commands) {
      if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
    }
    auto request = make_request(commands);
    auto connection = connection_;
    auto op = async_submit(std::move(connection), std::move(request), boost::asio::use_awaitable);
    std::vector<Reply> replies = co_await std::move(op);
    co_return replies;
  }

  bool connected() const noexcept override { return connection_->connected(); }
  void on_connect(std::function<void()> listener) override {
    connection_->add_connect_listener(std::move(listener));
  }
  void on_disconnect(std::function<void(const std::string& reason)> listener) override {
    connection_->add_disconnect_listener(std::move(listener));
  }
  void close() override { connection_->close(); }
  std::string address() const override { return connection_->address(); }

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace

std::shared_ptr<Client> Client::create(boost::asio::any_io_executor executor, RedisOptions options) {
  auto connection = std::make_shared<Connection>(std::move(executor), std::move(options), "client");
  connection->start();
  return std::make_shared<ClientHandle>(std::move(connection));
}

}  // namespace plume::redis
