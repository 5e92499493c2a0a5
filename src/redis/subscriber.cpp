#include "redis/connection.hpp"

#include <plume/redis/client.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <set>

namespace plume::redis {

namespace {

// What the subscriber wants, kept on the connection's strand so that a reconnection renews
// exactly the subscriptions that were asked for, in order with the SUBSCRIBE and UNSUBSCRIBE
// commands still queued.
struct Subscriptions {
  Subscriber::MessageHandler handler;
  std::set<std::string> channels;
  std::set<std::string> patterns;
  std::vector<std::function<void()>> listeners;
  bool renewed = false;  // the current connection carries every subscription

  void run_listeners() {
    const auto copy = listeners;
    for (const auto& listener : copy) {
      try {
        listener();
      } catch (const std::exception& error) {
        spdlog::error("event=redis_listener_failed role=subscriber error=\"{}\"", error.what());
      }
    }
  }
};

// RESP2 pub/sub: a message is ["message", channel, payload] or ["pmessage", pattern, channel,
// payload]; everything else (["subscribe", channel, count]...) answers a command.
bool deliver(Subscriptions& subscriptions, Reply& reply) {
  if (reply.type != Reply::Type::Array || reply.elements.empty()) return false;
  const auto& kind = reply.elements.front();
  if (kind.type != Reply::Type::String) return false;
  std::string_view channel;
  std::string_view payload;
  if (kind.str == "message" && reply.elements.size() == 3) {
    channel = reply.elements[1].str;
    payload = reply.elements[2].str;
  } else if (kind.str == "pmessage" && reply.elements.size() == 4) {
    channel = reply.elements[2].str;
    payload = reply.elements[3].str;
  } else {
    return false;
  }
  try {
    subscriptions.handler(channel, payload);
  } catch (const std::exception& error) {
    spdlog::error("event=redis_message_handler_failed channel={} error=\"{}\"", channel, error.what());
  }
  return true;
}

void renew(const std::shared_ptr<Subscriptions>& subscriptions, Connection& connection) {
  subscriptions->renewed = false;
  std::vector<std::vector<std::string>> commands;
  if (!subscriptions->channels.empty()) {
    std::vector<std::string> command = {"SUBSCRIBE"};
    command.insert(command.end(), subscriptions->channels.begin(), subscriptions->channels.end());
    commands.push_back(std::move(command));
  }
  if (!subscriptions->patterns.empty()) {
    std::vector<std::string> command = {"PSUBSCRIBE"};
    command.insert(command.end(), subscriptions->patterns.begin(), subscriptions->patterns.end());
    commands.push_back(std::move(command));
  }
  if (commands.empty()) {
    subscriptions->renewed = true;
    subscriptions->run_listeners();
    return;
  }
  auto request = make_request(commands);
  // Redis confirms each channel and pattern with a reply of its own.
  request->expected = subscriptions->channels.size() + subscriptions->patterns.size();
  request->complete = [subscriptions, address = connection.address()](std::exception_ptr error,
                                                                      std::vector<Reply> replies) {
    if (error) return;  // the connection dropped again: the next one renews
    for (const auto& reply : replies) {
      if (reply.is_error()) {
        spdlog::error("event=redis_resubscribe_failed address={} error=\"{}\"", address, reply.str);
        return;
      }
    }
    subscriptions->renewed = true;
    spdlog::debug("event=redis_resubscribed address={} channels={} patterns={}", address,
                  subscriptions->channels.size(), subscriptions->patterns.size());
    subscriptions->run_listeners();
  };
  connection.submit_first(std::move(request));
}

class SubscriberHandle final : public Subscriber {
 public:
  SubscriberHandle(std::shared_ptr<Connection> connection, std::shared_ptr<Subscriptions> subscriptions)
      : connection_(std::move(connection)), subscriptions_(std::move(subscriptions)) {}
  ~SubscriberHandle() override { connection_->close(); }

  Task<void> subscribe(std::vector<std::string> channels) override {
    auto op = change("SUBSCRIBE", std::move(channels),
                     [](Subscriptions& s, const std::string& name) { s.channels.insert(name); });
    co_await std::move(op);
  }
  Task<void> unsubscribe(std::vector<std::string> channels) override {
    auto op = change("UNSUBSCRIBE", std::move(channels),
                     [](Subscriptions& s, const std::string& name) { s.channels.erase(name); });
    co_await std::move(op);
  }
  Task<void> psubscribe(std::vector<std::string> patterns) override {
    auto op = change("PSUBSCRIBE", std::move(patterns),
                     [](Subscriptions& s, const std::string& name) { s.patterns.insert(name); });
    co_await std::move(op);
  }
  Task<void> punsubscribe(std::vector<std::string> patterns) override {
    auto op = change("PUNSUBSCRIBE", std::move(patterns),
                     [](Subscriptions& s, const std::string& name) { s.patterns.erase(name); });
    co_await std::move(op);
  }

  bool connected() const noexcept override { return connection_->connected(); }

  void on_connect(std::function<void()> listener) override {
    boost::asio::dispatch(connection_->strand(), [connection = connection_, subscriptions = subscriptions_,
                                                  listener = std::move(listener)]() {
      subscriptions->listeners.push_back(listener);
      if (subscriptions->renewed && connection->connected()) listener();
    });
  }

  void close() override { connection_->close(); }

 private:
  Task<void> change(const char* verb, std::vector<std::string> names,
                    void (*apply)(Subscriptions&, const std::string&)) {
    if (names.empty()) co_return;
    std::vector<std::string> command = {verb};
    command.insert(command.end(), names.begin(), names.end());
    auto request = make_request({command});
    request->expected = names.size();
    request->on_queued = [subscriptions = subscriptions_, names, apply]() {
      for (const auto& name : names) apply(*subscriptions, name);
    };
    auto connection = connection_;
    auto op = async_submit(std::move(connection), std::move(request), boost::asio::use_awaitable);
    std::vector<Reply> replies = co_await std::move(op);
    for (const auto& reply : replies) {
      if (reply.is_error()) throw ReplyError(reply.str);
    }
  }

  std::shared_ptr<Connection> connection_;
  std::shared_ptr<Subscriptions> subscriptions_;
};

}  // namespace

std::shared_ptr<Subscriber> Subscriber::create(boost::asio::any_io_executor executor, RedisOptions options,
                                               MessageHandler handler) {
  auto subscriptions = std::make_shared<Subscriptions>();
  subscriptions->handler = std::move(handler);
  auto connection = std::make_shared<Connection>(std::move(executor), std::move(options), "subscriber");
  connection->set_push_handler([subscriptions](Reply& reply) { return deliver(*subscriptions, reply); });
  connection->set_connect_hook([subscriptions](Connection& connection) { renew(subscriptions, connection); });
  connection->start();
  connection->add_disconnect_listener(
      [subscriptions](const std::string&) { subscriptions->renewed = false; });
  return std::make_shared<SubscriberHandle>(std::move(connection), std::move(subscriptions));
}

}  // namespace plume::redis
