#include "mesh/redis_discovery.hpp"

#include "mesh/discovery_peers.hpp"

#include <plume/redis/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/url/parse.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

namespace plume::mesh {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kQuickRepeat{100};

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Splits ?cluster=name off the URL: the Redis client gets the rest.
std::pair<std::string, std::string> split_cluster(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw std::invalid_argument("mesh.discovery '" + url + "' is not a URL (redis://host:6379)");
  std::string cluster = "default";
  for (const auto& param : parsed->params()) {
    if (param.key == "cluster" && param.has_value && !param.value.empty()) {
      cluster = param.value;
    } else {
      throw std::invalid_argument("mesh.discovery '" + url + "': the only query parameter is cluster=<name>");
    }
  }
  const auto query = url.find('?');
  return {query == std::string::npos ? url : url.substr(0, query), cluster};
}

}  // namespace

RedisDiscoveryKeys redis_discovery_keys(std::string_view cluster) {
  RedisDiscoveryKeys keys;
  keys.prefix = "plume:mesh:" + std::string(cluster);
  keys.instances = keys.prefix + ":instances";
  keys.channel = keys.prefix + ":announce";
  return keys;
}

struct RedisDiscovery::State : std::enable_shared_from_this<RedisDiscovery::State> {
  State(asio::any_io_executor executor, const MeshOptions& options, redis::RedisOptions redis_options,
        RedisDiscoveryKeys keys)
      : strand(asio::make_strand(std::move(executor))),
        heartbeat_timer(strand),
        check_timer(strand),
        redis_options(std::move(redis_options)),
        keys(std::move(keys)),
        secret(options.secret),
        interval(options.announce_interval),
        node_timeout(options.node_timeout),
        peers("", options.node_timeout) {}

  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer heartbeat_timer;
  asio::steady_timer check_timer;
  redis::RedisOptions redis_options;
  RedisDiscoveryKeys keys;
  std::string secret;
  std::chrono::milliseconds interval;
  std::chrono::milliseconds node_timeout;
  std::shared_ptr<redis::Client> client;
  std::shared_ptr<redis::Subscriber> subscriber;

  // Strand-only state.
  Announcement self;
  PeerTable peers;
  bool running = false;
  bool heartbeat_failing = false;

  std::atomic<std::uint64_t> seq{0};
  std::atomic<std::uint64_t> rejected{0};
  GuardedEvents events;

  std::string packet(bool goodbye) {
    Announcement announcement = self;
    announcement.seq = ++seq;
    announcement.goodbye = goodbye;
    return encode_announcement(announcement, secret);
  }

  void handle(std::string_view payload, std::string_view source) {
    auto announcement = decode_announcement(payload, secret);
    if (!announcement) {
      const auto count = ++rejected;
      if (count == 1 || count % 1000 == 0) {
        spdlog::warn(
            "event=discovery_rejected backend=redis source={} rejected={} reason=\"bad signature, version or "
            "format (is mesh.secret the same on every node?)\"",
            source, count);
      }
      return;
    }
    const bool known = peers.knows(announcement->instance);
    switch (peers.accept(*announcement, Clock::now())) {
      case PeerTable::Verdict::Seen:
        if (!known) {
          spdlog::info("event=discovery_seen backend=redis node={} instance={} address={} source={}",
                       announcement->node, announcement->instance, announcement->address, source);
        }
        events.seen(*announcement);
        break;
      case PeerTable::Verdict::Gone:
        spdlog::info("event=discovery_goodbye backend=redis node={} instance={}", announcement->node,
                     announcement->instance);
        events.gone(announcement->instance);
        break;
      case PeerTable::Verdict::Ignore:
        break;
    }
  }

  // Everyone alive right now: the instances whose expiry lies ahead (with a node_timeout of
  // slack for clocks that differ between hosts), then their keys, which Redis expires itself and
  // so are the authority.
  asio::awaitable<void> snapshot() {
    auto keep = shared_from_this();
    try {
      auto range = client->command(
          {"ZRANGEBYSCORE", keys.instances, std::to_string(unix_ms() - node_timeout.count()), "+inf"});
      redis::Reply members = co_await std::move(range);
      std::vector<std::string> mget{"MGET"};
      for (const auto& member : members.elements) {
        if (member.str != self.instance) mget.push_back(keys.node(member.str));
      }
      std::size_t found = 0;
      if (mget.size() > 1) {
        auto read = client->command(std::move(mget));
        redis::Reply values = co_await std::move(read);
        for (const auto& value : values.elements) {
          if (value.type != redis::Reply::Type::String || !running) continue;
          ++found;
          handle(value.str, "snapshot");
        }
      }
      spdlog::debug("event=discovery_snapshot backend=redis instances={}", found);
    } catch (const std::exception& e) {
      // The channel still delivers heartbeats; the next reconnection snapshots again.
      spdlog::warn("event=discovery_snapshot_failed backend=redis redis={} error=\"{}\"", client->address(),
                   e.what());
    }
  }

  asio::awaitable<void> subscribe_and_snapshot() {
    auto keep = shared_from_this();
    auto delay = std::chrono::milliseconds(100);
    while (running) {
      bool subscribed = false;
      try {
        auto op = subscriber->subscribe({keys.channel});
        co_await std::move(op);
        subscribed = true;
      } catch (const std::exception& e) {
        spdlog::warn("event=discovery_subscribe_failed backend=redis channel={} error=\"{}\"", keys.channel,
                     e.what());
      }
      if (subscribed) break;
      asio::steady_timer retry(strand);
      retry.expires_after(delay);
      co_await retry.async_wait(kUseTuple);
      delay = std::min(delay * 2, std::chrono::milliseconds(5'000));
    }
    if (running) co_await snapshot();
  }

  asio::awaitable<void> heartbeat_loop() {
    auto keep = shared_from_this();
    int sent = 0;
    while (running) {
      const std::string announcement = packet(false);
      const std::int64_t now = unix_ms();
      auto op = client->pipeline({
          {"SET", keys.node(self.instance), announcement, "PX", std::to_string(node_timeout.count())},
          {"ZADD", keys.instances, std::to_string(now + node_timeout.count()), self.instance},
          // Members long past their expiry (nodes that died without a goodbye).
          {"ZREMRANGEBYSCORE", keys.instances, "-inf", std::to_string(now - 10 * node_timeout.count())},
          {"PUBLISH", keys.channel, announcement},
      });
      std::string failure;
      try {
        auto replies = co_await std::move(op);
        for (const auto& reply : replies) {
          if (reply.is_error()) failure = reply.str;
        }
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (!running) co_return;
      if (!failure.empty() && !heartbeat_failing) {
        spdlog::warn("event=discovery_heartbeat_failed backend=redis redis={} error=\"{}\"",
                     client->address(), failure);
      } else if (failure.empty() && heartbeat_failing) {
        spdlog::info("event=discovery_heartbeat_restored backend=redis redis={}", client->address());
      }
      heartbeat_failing = !failure.empty();
      ++sent;
      heartbeat_timer.expires_after(sent == 1 ? std::min(kQuickRepeat, interval) : interval);
      co_await heartbeat_timer.async_wait(kUseTuple);
    }
  }

  asio::awaitable<void> check_loop() {
    auto keep = shared_from_this();
    const auto period = std::max(std::chrono::milliseconds(20), std::min(interval, node_timeout / 4));
    while (running) {
      check_timer.expires_after(period);
      co_await check_timer.async_wait(kUseTuple);
      if (!running) co_return;
      const auto now = Clock::now();
      // Deaf while the subscription is down: silence then says nothing about the others, so
      // nobody expires until we hear again (the snapshot after the reconnection catches up).
      if (!subscriber->connected()) {
        peers.extend_all(now + node_timeout);
        continue;
      }
      for (const auto& instance : peers.expire(now)) {
        spdlog::info("event=discovery_timeout backend=redis instance={} timeout_ms={}", instance,
                     node_timeout.count());
        events.gone(instance);
      }
    }
  }

  asio::awaitable<void> goodbye() {
    auto keep = shared_from_this();
    running = false;
    heartbeat_timer.cancel();
    check_timer.cancel();
    if (!client->connected()) co_return;  // it would wait connect_timeout for nothing
    auto op = client->pipeline({
        {"DEL", keys.node(self.instance)},
        {"ZREM", keys.instances, self.instance},
        {"PUBLISH", keys.channel, packet(true)},
    });
    try {
      co_await std::move(op);
      spdlog::info("event=discovery_goodbye_sent backend=redis instance={}", self.instance);
    } catch (const std::exception& e) {
      spdlog::warn("event=discovery_goodbye_failed backend=redis error=\"{}\"", e.what());
    }
  }

  void close() {
    running = false;
    heartbeat_timer.cancel();
    check_timer.cancel();
    if (subscriber) subscriber->close();
    if (client) client->close();
  }
};

RedisDiscovery::RedisDiscovery(asio::any_io_executor executor, const MeshOptions& options) {
  auto [url, cluster] = split_cluster(options.discovery);
  redis::parse_redis_url(url);  // throws std::invalid_argument for a bad URL
  redis::RedisOptions redis_options;
  redis_options.url = url;
  redis_options.client_name = "plume-discovery";
  state_ = std::make_shared<State>(std::move(executor), options, std::move(redis_options),
                                   redis_discovery_keys(cluster));
}

RedisDiscovery::~RedisDiscovery() { stop(); }

void RedisDiscovery::start(Announcement self, DiscoveryEvents events) {
  auto state = state_;
  if (!state->events.stopped()) return;
  state->self = std::move(self);
  state->peers = PeerTable(state->self.instance, state->node_timeout);
  state->events.set(std::move(events));
  // Created here rather than on the strand: readiness() reads the pointers from any thread.
  state->client = redis::Client::create(state->strand, state->redis_options);
  std::weak_ptr<State> weak = state;
  state->subscriber = redis::Subscriber::create(
      state->strand, state->redis_options, [weak](std::string_view channel, std::string_view payload) {
        auto s = weak.lock();
        if (!s) return;
        asio::dispatch(s->strand, [s, channel = std::string(channel), payload = std::string(payload)] {
          if (s->running) s->handle(payload, channel);
        });
      });
  state->subscriber->on_connect([weak] {
    auto s = weak.lock();
    if (!s) return;
    asio::dispatch(s->strand, [s] {
      if (!s->running) return;
      // The others reconnect on their own backoff; until they had the time to, their silence
      // is not a departure.
      s->peers.extend_all(Clock::now() + s->node_timeout + s->redis_options.backoff_max);
      asio::co_spawn(s->strand, s->snapshot(), asio::detached);
    });
  });
  asio::dispatch(state->strand, [state] {
    state->running = true;
    spdlog::info("event=discovery_started backend=redis redis={} prefix={} instance={}",
                 state->client->address(), state->keys.prefix, state->self.instance);
    asio::co_spawn(state->strand, state->subscribe_and_snapshot(), asio::detached);
    asio::co_spawn(state->strand, state->heartbeat_loop(), asio::detached);
    asio::co_spawn(state->strand, state->check_loop(), asio::detached);
  });
}

void RedisDiscovery::stop() {
  auto state = state_;
  if (state->events.stopped()) return;
  state->events.stop();
  auto done = asio::co_spawn(
      state->strand,
      [state]() -> asio::awaitable<void> {
        if (state->client) co_await state->goodbye();
        state->close();
      },
      asio::use_future);
  if (!state->strand.running_in_this_thread()) done.wait_for(std::chrono::seconds(1));
}

std::string RedisDiscovery::readiness() const {
  // connected() reads an atomic flag in the clients; the pointers are set once at start.
  auto state = state_;
  if (state->events.stopped()) return "redis discovery is not running";
  if (!state->client || !state->subscriber) return "redis discovery is starting";
  if (!state->client->connected() || !state->subscriber->connected()) {
    return "Redis at " + state->client->address() + " is unreachable (mesh discovery)";
  }
  return "";
}

std::uint64_t RedisDiscovery::rejected() const noexcept { return state_->rejected.load(); }

}  // namespace plume::mesh
