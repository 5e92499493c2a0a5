// Connection is a real-time client (a Socket.io socket) as hooks, channels and the
// authentication service see it: what it sent at the handshake, who it is once logged in, and a
// way to send it service events. Transports implement it; channels hold shared pointers to it.
#pragma once

#include <plume/core/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plume {

// One published service event as every target connection of one dispatch receives it. The
// publisher hands the same object to all of them, one after another on its own thread, so a
// transport encodes its wire frame once per event (encoded()) and queues the shared text. The
// object lives for the dispatch only: keep the returned text, never the event.
class PublishedEvent {
 public:
  PublishedEvent(std::string_view path, std::string_view event, const Json& data) noexcept
      : path_(path), event_(event), data_(data) {}
  PublishedEvent(const PublishedEvent&) = delete;
  PublishedEvent& operator=(const PublishedEvent&) = delete;

  std::string_view path() const noexcept { return path_; }
  std::string_view event() const noexcept { return event_; }
  const Json& data() const noexcept { return data_; }

  // The frame for `encoding` (a transport's own name, "socketio"): built by encode() on the first
  // call of this dispatch, the same shared text afterwards. Not thread-safe: call it from
  // Connection::send_published, which runs on the publishing thread.
  template <class Encode>
  std::shared_ptr<const std::string> encoded(std::string_view encoding, Encode&& encode) const {
    for (const auto& [name, text] : frames_) {
      if (name == encoding) return text;
    }
    auto text = std::make_shared<const std::string>(std::forward<Encode>(encode)());
    frames_.emplace_back(std::string(encoding), text);
    return text;
  }

 private:
  std::string_view path_;
  std::string_view event_;
  const Json& data_;
  mutable std::vector<std::pair<std::string, std::shared_ptr<const std::string>>> frames_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::string id, std::string provider, JsonObject headers)
      : id_(std::move(id)), provider_(std::move(provider)), headers_(std::move(headers)) {}
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues the service event "<path> <event>" with `data` for this client. Thread-safe and
  // non-blocking: a slow client never holds up the publisher.
  virtual void send_event(std::string_view path, std::string_view event, const Json& data) = 0;
  // How channels deliver a published event (App's dispatcher calls it for every target). The
  // default forwards to send_event; a transport overrides it to encode the frame once per event
  // with event.encoded(...) and queue the shared text. Same rules as send_event.
  virtual void send_published(const PublishedEvent& event) {
    send_event(event.path(), event.event(), event.data());
  }
  // Ends the connection (logout elsewhere, token expired, server stopping); `reason` is logged.
  virtual void close(std::string_view reason) = 0;

  const std::string& id() const noexcept { return id_; }
  const std::string& provider() const noexcept { return provider_; }
  // Handshake request headers, names lower-case.
  const JsonObject& headers() const noexcept { return headers_; }

  // {strategy, accessToken, ...} after a successful login, else null. Copies: another thread
  // may log the connection in or out at any time.
  Json authentication() const {
    std::lock_guard lock(mutex_);
    return authentication_;
  }
  Json user() const {
    std::lock_guard lock(mutex_);
    return user_;
  }
  void set_login(Json authentication, Json user) {
    std::lock_guard lock(mutex_);
    authentication_ = std::move(authentication);
    user_ = std::move(user);
  }
  void clear_login() {
    std::lock_guard lock(mutex_);
    authentication_ = nullptr;
    user_ = nullptr;
  }

 private:
  const std::string id_;
  const std::string provider_;
  const JsonObject headers_;
  mutable std::mutex mutex_;
  Json authentication_ = nullptr;
  Json user_ = nullptr;
};

}  // namespace plume
