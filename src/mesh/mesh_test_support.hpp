// Nodes for the mesh tests: an App, a transport::Server on a loopback port and a Mesh, in one
// process, linked through static discovery; a small in-memory service that can be slowed down
// or made to fail; and waiting on conditions with generous deadlines.
#pragma once

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>
#include <plume/mesh/mesh.hpp>
#include <plume/transport/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plume::mesh::testing {

using namespace std::chrono_literals;

// Records in a map; `owner` tags every result so tests see which node answered. get waits
// `delay` first (a slow node); `fail_gets` makes get throw GeneralError (a failing node).
class Items final : public Service {
 public:
  explicit Items(std::string owner) : owner_(std::move(owner)) {}

  std::chrono::milliseconds delay{0};
  std::atomic<bool> fail_gets{false};
  std::atomic<int> gets{0};

  Task<Json> find(Params& params) override {
    std::lock_guard lock(mutex_);
    JsonArray list;
    for (const auto& [id, record] : records_) list.push_back(record);
    co_return list;
  }
  Task<Json> get(const Id& id, Params& params) override {
    ++gets;
    if (delay.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    if (fail_gets) throw general_error("disk on fire");
    std::lock_guard lock(mutex_);
    auto it = records_.find(id.to_string());
    if (it == records_.end()) {
      throw not_found("No record found for id '" + id.to_string() + "'", JsonObject{{"id", id.to_json()}});
    }
    Json record = it->second;
    record.as_object()["servedBy"] = owner_;
    co_return record;
  }
  Task<Json> create(Json data, Params& params) override {
    if (delay.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    if (!data.is_object()) throw bad_request("data must be an object");
    std::lock_guard lock(mutex_);
    data.as_object()["id"] = next_id_;
    records_[std::to_string(next_id_++)] = data;
    co_return data;
  }
  Task<Json> update(const NullableId& id, Json data, Params& params) override {
    std::lock_guard lock(mutex_);
    data.as_object()["id"] = id->to_json();
    records_[id->to_string()] = data;
    co_return data;
  }
  Task<Json> patch(const NullableId& id, Json data, Params& params) override {
    std::lock_guard lock(mutex_);
    if (!id) {
      JsonArray all;
      for (auto& [key, record] : records_) {
        for (const auto& [k, v] : data.as_object()) record.as_object()[k] = v;
        all.push_back(record);
      }
      co_return all;
    }
    auto it = records_.find(id->to_string());
    if (it == records_.end()) throw not_found("No record found for id '" + id->to_string() + "'");
    for (const auto& [k, v] : data.as_object()) it->second.as_object()[k] = v;
    co_return it->second;
  }
  Task<Json> remove(const NullableId& id, Params& params) override {
    std::lock_guard lock(mutex_);
    auto it = records_.find(id->to_string());
    if (it == records_.end()) throw not_found("No record found for id '" + id->to_string() + "'");
    Json record = it->second;
    records_.erase(it);
    co_return record;
  }
  Task<Json> call_custom(std::string_view method, Json data, Params& params) override {
    if (method == "archive") {
      if (!data.is_object() || !data.as_object().contains("id")) {
        throw unprocessable("archive needs an id", JsonObject{{"field", "id"}});
      }
      co_return JsonObject{{"archived", data.at("id")}, {"by", owner_}, {"provider", params.provider}};
    }
    auto op = Service::call_custom(method, std::move(data), params);
    co_return co_await std::move(op);
  }
  std::vector<std::string> default_methods() const override {
    return {"find", "get", "create", "update", "patch", "remove", "archive"};
  }

  void put(std::int64_t id, Json record) {
    std::lock_guard lock(mutex_);
    record.as_object()["id"] = id;
    records_[std::to_string(id)] = std::move(record);
  }

 private:
  std::string owner_;
  std::mutex mutex_;
  std::map<std::string, Json> records_;
  std::int64_t next_id_ = 100;
};

inline MeshOptions fast_options(std::string node_id, std::vector<std::string> peers = {}) {
  MeshOptions options;
  options.secret = "test-cluster-secret";
  options.discovery = "static";
  options.peers = std::move(peers);
  options.node_id = std::move(node_id);
  options.announce_interval = 100ms;
  options.node_timeout = 1'000ms;
  options.heartbeat_interval = 100ms;
  options.heartbeat_timeout = 1'000ms;
  options.reconnect_min = 50ms;
  options.reconnect_max = 500ms;
  return options;
}

// One node: build it, add services to app before start(), then start().
struct TestNode {
  explicit TestNode(MeshOptions options, const std::function<void(App&)>& setup = {},
                    std::uint16_t fixed_port = 0) {
    if (setup) setup(app);
    transport::ServerOptions server_options;
    server_options.host = "127.0.0.1";
    server_options.port = fixed_port;
    server_options.threads = 1;
    server_options.shutdown_grace = 1'000ms;
    server = std::make_unique<transport::Server>(app, server_options);
    mesh = std::make_unique<Mesh>(app, *server, std::move(options));
  }
  ~TestNode() { stop(); }

  void start() {
    port = server->start();
    mesh->start();
  }
  void stop() {
    if (stopped) return;
    stopped = true;
    mesh->stop();
    server->stop();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port); }

  App app;
  std::unique_ptr<transport::Server> server;
  std::unique_ptr<Mesh> mesh;
  std::uint16_t port = 0;
  bool stopped = false;
};

// A TCP port free right now on loopback, for nodes that must know each other's address before
// either starts (static peers listing each other).
inline std::uint16_t free_tcp_port() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(
      context, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = 15'000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

template <class T>
T run(Task<T> task) {
  boost::asio::io_context context;
  auto future = boost::asio::co_spawn(context, std::move(task), boost::asio::use_future);
  context.run();
  return future.get();
}

// The error a call failed with (GeneralError "no error" if it did not fail).
inline Error error_of(Task<Json> task) {
  try {
    run(std::move(task));
  } catch (const Error& error) {
    return error;
  }
  return general_error("no error");
}

}  // namespace plume::mesh::testing
