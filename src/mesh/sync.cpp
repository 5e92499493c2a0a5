#include <plume/mesh/sync.hpp>

#include "mesh/announcement.hpp"
#include "mesh/sync_entry.hpp"

#include <plume/redis/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <map>
#include <thread>

namespace plume::mesh {

namespace asio = boost::asio;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kBatch = 64;       // XADDs per pipelined write
constexpr std::size_t kReadCount = 256;  // entries per XREAD

// Set while this thread re-emits an entry of another replica: the App runs our own listener
// inside emit_event, and that event must not go back into the stream.
thread_local bool t_reemitting = false;

asio::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  co_await timer.async_wait(kUseTuple);
}

}  // namespace

struct ReplicaSync::Impl : std::enable_shared_from_this<ReplicaSync::Impl> {
  Impl(App& app, SyncOptions options) : app(app), options(std::move(options)), instance(random_hex()) {}

  App& app;
  SyncOptions options;
  const std::string instance;
  asio::io_context context;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  std::shared_ptr<redis::Client> writer;
  std::shared_ptr<redis::Client> reader;
  std::atomic<bool> running{false};
  bool listening = false;  // the App listener is registered once and outlives stop()

  // Writer state, on the sync thread.
  std::deque<SyncEntry> queue;
  std::size_t in_flight = 0;  // entries at the front of `queue` being written
  bool writing = false;
  bool write_failing = false;
  std::uint64_t next_seq = 0;
  std::atomic<std::size_t> queued_count{0};
  std::atomic<std::uint64_t> dropped_count{0};

  // Reader state, on the sync thread.
  std::string last_id;
  std::map<std::string, std::uint64_t> last_seq;  // per origin

  // Called on the thread that emitted the event (an I/O thread, within the service call).
  void on_event(const ServiceEvent& event) {
    if (!running.load(std::memory_order_relaxed) || t_reemitting || is_synced(event.context) ||
        is_remote(event.context)) {
      return;
    }
    SyncEntry entry;
    try {
      entry = sync_entry_from_event(event, instance);
    } catch (const std::exception& e) {
      // The call succeeded and its local clients have the event; only the other replicas miss it.
      spdlog::warn("event=sync_serialize_failed path={} event={} error=\"{}\"", event.path, event.event,
                   e.what());
      return;
    }
    asio::post(context, [self = shared_from_this(), entry = std::move(entry)]() mutable {
      self->enqueue(std::move(entry));
    });
  }

  // Why a bounded queue in memory: a service call must never wait for Redis or fail because of
  // it (its write already happened; failing it would be the 500-after-success of broker-in-the-
  // call designs), and an outage of Redis (a restart, a failover) lasts seconds, which a bounded
  // queue rides out in order. Blocking the caller would turn a Redis outage into an API outage;
  // an unbounded queue into a memory exhaustion; a disk spool would survive a crash of this
  // replica, but then its clients are gone too and the database, not the event stream, is the
  // source of truth that they reload. Past the bound the oldest events go (a client that missed
  // that many changes must reload anyway), and readers log the gap in our sequence.
  void enqueue(SyncEntry entry) {
    if (!running) return;
    entry.seq = ++next_seq;
    queue.push_back(std::move(entry));
    if (queue.size() > options.max_queued && queue.size() > in_flight) {
      queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(in_flight));
      const auto dropped = ++dropped_count;
      if (dropped == 1 || dropped % 1000 == 0) {
        spdlog::warn("event=sync_queue_full max_queued={} dropped={} redis={}", options.max_queued, dropped,
                     writer->address());
      }
    }
    queued_count = queue.size();
    if (!writing) {
      writing = true;
      asio::co_spawn(context, flush(), asio::detached);
    }
  }

  asio::awaitable<void> flush() {
    auto keep = shared_from_this();
    auto backoff = std::chrono::milliseconds(50);
    while (running && !queue.empty()) {
      in_flight = std::min(queue.size(), kBatch);
      std::vector<std::vector<std::string>> commands;
      commands.reserve(in_flight);
      for (std::size_t i = 0; i < in_flight; ++i) {
        commands.push_back(xadd_command(queue[i], options.stream, options.max_length));
      }
      std::string failure;
      std::vector<redis::Reply> replies;
      auto op = writer->pipeline(std::move(commands));
      try {
        replies = co_await std::move(op);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (!running) break;
      if (!failure.empty()) {
        // Kept in place and sent again in order: a batch cut by a dropped connection may have
        // been partly written, and readers drop the repeats by seq.
        in_flight = 0;
        if (!write_failing) {
          spdlog::warn("event=sync_write_failed redis={} queued={} error=\"{}\"", writer->address(),
                       queue.size(), failure);
        }
        write_failing = true;
        co_await sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1'000));
        continue;
      }
      for (std::size_t i = 0; i < replies.size(); ++i) {
        // An error reply (a key of another type at the stream's name) will not heal by retrying.
        if (replies[i].is_error()) {
          spdlog::error("event=sync_xadd_rejected stream={} path={} error=\"{}\"", options.stream,
                        queue[i].path, replies[i].str);
        }
      }
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(in_flight));
      in_flight = 0;
      queued_count = queue.size();
      if (write_failing)
        spdlog::info("event=sync_write_restored redis={} queued={}", writer->address(), queue.size());
      write_failing = false;
      backoff = std::chrono::milliseconds(50);
    }
    in_flight = 0;
    writing = false;
  }

  // Where reading starts: after the newest entry now in the stream ("$" is no good, as it would
  // be re-resolved by every XREAD and skip what arrives between two of them).
  asio::awaitable<void> find_start() {
    while (running && last_id.empty()) {
      auto op = reader->command({"XREVRANGE", options.stream, "+", "-", "COUNT", "1"});
      try {
        redis::Reply newest = co_await std::move(op);
        last_id = newest.elements.empty() || newest.elements[0].elements.empty()
                      ? "0-0"
                      : newest.elements[0].elements[0].str;
      } catch (const std::exception& e) {
        spdlog::warn("event=sync_read_failed redis={} error=\"{}\"", reader->address(), e.what());
      }
      if (last_id.empty()) co_await sleep_for(std::chrono::milliseconds(200));
    }
  }

  asio::awaitable<void> read_loop() {
    auto keep = shared_from_this();
    co_await find_start();
    bool failing = false;
    while (running) {
      auto op = reader->command({"XREAD", "COUNT", std::to_string(kReadCount), "BLOCK",
                                 std::to_string(options.block.count()), "STREAMS", options.stream, last_id});
      redis::Reply reply;
      std::string failure;
      try {
        reply = co_await std::move(op);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (!running) break;
      if (!failure.empty()) {
        if (!failing)
          spdlog::warn("event=sync_read_failed redis={} last_id={} error=\"{}\"", reader->address(), last_id,
                       failure);
        failing = true;
        co_await sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (failing) spdlog::info("event=sync_read_restored redis={} last_id={}", reader->address(), last_id);
      failing = false;
      // [[stream, [[id, [field, value, ...]], ...]]], or nil when BLOCK timed out.
      for (const auto& stream : reply.elements) {
        if (stream.elements.size() < 2) continue;
        for (const auto& item : stream.elements[1].elements) {
          if (item.elements.size() < 2) continue;
          last_id = item.elements[0].str;
          handle(item.elements[0].str, item.elements[1]);
        }
      }
    }
  }

  void handle(const std::string& id, const redis::Reply& fields) {
    auto entry = parse_sync_entry(fields);
    if (!entry) {
      spdlog::warn("event=sync_entry_malformed stream={} id={}", options.stream, id);
      return;
    }
    if (entry->origin == instance) return;  // delivered to our own clients directly
    auto [position, first] = last_seq.try_emplace(entry->origin, 0);
    if (!first && entry->seq <= position->second) return;  // a repeat of a retried write
    if (!first && entry->seq > position->second + 1) {
      // Trimmed by MAXLEN before we read them (we were cut off too long), or dropped from the
      // origin's full queue during an outage.
      spdlog::warn("event=sync_events_lost origin={} lost={} stream={} last_id={}", entry->origin,
                   entry->seq - position->second - 1, options.stream, id);
    }
    position->second = entry->seq;
    t_reemitting = true;
    try {
      if (!reemit_sync_entry(app, *entry)) {
        spdlog::debug("event=sync_unknown_path path={} origin={}", entry->path, entry->origin);
      }
    } catch (const std::exception& e) {
      spdlog::warn("event=sync_reemit_failed path={} event={} origin={} error=\"{}\"", entry->path,
                   entry->event, entry->origin, e.what());
    }
    t_reemitting = false;
  }
};

ReplicaSync::ReplicaSync(App& app, SyncOptions options) {
  redis::parse_redis_url(options.redis);  // std::invalid_argument names what is wrong
  if (options.stream.empty()) throw std::invalid_argument("sync stream name is empty");
  impl_ = std::make_shared<Impl>(app, std::move(options));
}

ReplicaSync::~ReplicaSync() { stop(); }

void ReplicaSync::start() {
  auto impl = impl_;
  if (impl->running) return;
  if (impl->thread.joinable()) impl->thread.join();
  impl->context.restart();
  impl->guard.emplace(impl->context.get_executor());
  redis::RedisOptions writer_options;
  writer_options.url = impl->options.redis;
  // Names that tell the replicas apart in CLIENT LIST.
  writer_options.client_name = "plume-sync-writer-" + impl->instance.substr(0, 8);
  redis::RedisOptions reader_options = writer_options;
  reader_options.client_name = "plume-sync-reader-" + impl->instance.substr(0, 8);
  impl->writer = redis::Client::create(impl->context.get_executor(), writer_options);
  impl->reader = redis::Client::create(impl->context.get_executor(), reader_options);
  impl->last_id.clear();
  impl->running = true;
  if (!impl->listening) {
    impl->listening = true;
    // The App cannot remove a listener: this one holds the state alive and goes quiet on stop().
    impl->app.on_event([impl](const ServiceEvent& event) { impl->on_event(event); });
  }
  asio::co_spawn(impl->context, impl->read_loop(), asio::detached);
  impl->thread = std::thread([impl] { impl->context.run(); });
  spdlog::info("event=sync_started redis={} stream={} instance={} max_length={}", impl->writer->address(),
               impl->options.stream, impl->instance, impl->options.max_length);
}

void ReplicaSync::stop() {
  auto impl = impl_;
  if (!impl || !impl->running.exchange(false)) return;
  asio::post(impl->context, [impl] {
    if (!impl->queue.empty()) {
      spdlog::warn("event=sync_stopped_with_queue queued={} (Redis unreachable at stop)", impl->queue.size());
    }
    impl->queue.clear();
    impl->queued_count = 0;
    impl->writer->close();
    impl->reader->close();
    impl->guard.reset();
  });
  if (impl->thread.get_id() != std::this_thread::get_id()) {
    impl->thread.join();
  } else {
    impl->thread.detach();
  }
  impl->context.stop();
}

std::string ReplicaSync::readiness() const {
  if (!impl_->running) return "replica sync is not running";
  if (!impl_->writer->connected() || !impl_->reader->connected()) {
    return "Redis at " + impl_->writer->address() + " is unreachable (replica sync)";
  }
  return "";
}

const std::string& ReplicaSync::instance() const noexcept { return impl_->instance; }
std::size_t ReplicaSync::queued() const noexcept { return impl_->queued_count.load(); }
std::uint64_t ReplicaSync::dropped() const noexcept { return impl_->dropped_count.load(); }

}  // namespace plume::mesh
