#include <plume/mesh/sync.hpp>

#include "mesh/sync_test_proxy.hpp"
#include "testing/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace plume::mesh {
namespace {

using namespace std::chrono_literals;

// Records ids in order, like a store would hand them out.
class Messages final : public Service {
 public:
  Task<Json> create(Json data, Params&) override {
    data.as_object()["id"] = next_++;
    co_return data;
  }

 private:
  std::atomic<std::int64_t> next_{1};
};

struct Seen {
  std::string event;
  Json data;
  bool synced = false;
  std::string origin;
  Json user;
  std::string provider;
  std::string method;
};

// One replica: an App with a messages service, its ReplicaSync, and what its listeners saw.
struct Replica {
  App app;
  std::unique_ptr<ReplicaSync> sync;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Seen> seen;

  explicit Replica(const std::string& redis_url) {
    app.use("messages", std::make_unique<Messages>());
    app.on_event([this](const ServiceEvent& event) {
      Seen item{std::string(event.event), event.data};
      if (event.context != nullptr) {
        const JsonObject& extra = event.context->params.extra;
        item.synced = extra.contains("synced") && extra.at("synced") == Json(true);
        if (const Json* origin = extra.if_contains("origin")) item.origin = std::string(origin->as_string());
        item.user = event.context->params.user;
        item.provider = event.context->params.provider;
        item.method = event.context->method;
      }
      std::lock_guard lock(mutex);
      seen.push_back(std::move(item));
      changed.notify_all();
    });
    SyncOptions options;
    options.redis = redis_url;
    options.stream = "plume:sync:test";
    options.block = 200ms;
    sync = std::make_unique<ReplicaSync>(app, options);
    sync->start();
  }
  ~Replica() { sync.reset(); }

  Json create(Json data, Params params = {}) {
    boost::asio::io_context context;
    auto result = boost::asio::co_spawn(context, app.create("messages", std::move(data), std::move(params)),
                                        boost::asio::use_future);
    context.run();
    return result.get();
  }

  // The texts of the events seen so far that were synced (or not).
  std::vector<std::string> texts(bool synced) {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& item : seen) {
      if (item.synced == synced) out.emplace_back(item.data.at("text").as_string());
    }
    return out;
  }
  bool wait_for_text(const std::string& text, bool synced, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] {
      for (const auto& item : seen) {
        if (item.synced == synced && item.data.at("text") == Json(text.c_str())) return true;
      }
      return false;
    });
  }
  std::vector<Seen> snapshot() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

Json message(const char* text) { return JsonObject{{"text", text}}; }

TEST(ReplicaSync, ACreateReachesTheOtherReplicaOnceMarkedSyncedAndTheOriginOnceUnmarked) {
  plume::testing::RedisServer redis;
  Replica a(redis.url()), b(redis.url());
  ASSERT_TRUE(eventually([&] { return a.sync->readiness().empty() && b.sync->readiness().empty(); }));

  Params params;
  params.provider = "rest";
  params.user = JsonObject{{"id", 7}, {"email", "ann@example.com"}};
  const Json created = a.create(message("hello"), params);
  ASSERT_TRUE(b.wait_for_text("hello", true));
  // An event the mesh re-emitted for a remote service stays local: every replica has it already.
  Params proxied;
  proxied.extra["remote"] = true;
  a.create(message("proxied"), proxied);
  // A later event from b, once a has it, proves a has read past its own "hello" in the stream.
  b.create(message("from b"));
  ASSERT_TRUE(a.wait_for_text("from b", true));
  ASSERT_TRUE(b.wait_for_text("from b", false));

  const auto at_b = b.snapshot();
  ASSERT_EQ(at_b.size(), 2u);
  EXPECT_EQ(at_b[0].event, "created");
  EXPECT_TRUE(at_b[0].synced);
  EXPECT_EQ(at_b[0].origin, a.sync->instance());
  EXPECT_EQ(at_b[0].data, created);
  EXPECT_EQ(at_b[0].user, params.user);
  EXPECT_EQ(at_b[0].provider, "rest");
  EXPECT_EQ(at_b[0].method, "create");
  EXPECT_FALSE(at_b[1].synced);

  EXPECT_EQ(a.texts(false), (std::vector<std::string>{"hello", "proxied"}));  // directly, once
  EXPECT_EQ(a.texts(true), std::vector<std::string>{"from b"});               // its own never comes back
  EXPECT_EQ(b.texts(true), std::vector<std::string>{"hello"});
  EXPECT_EQ(b.texts(false), std::vector<std::string>{"from b"});
  // Neither re-emitted nor remote events are written: the stream holds exactly the two.
  EXPECT_EQ(redis.redis_cli_line({"XLEN", "plume:sync:test"}), "2");
}

TEST(ReplicaSync, AnEventWrittenWhileAReplicaIsCutOffArrivesAfterItReconnects) {
  plume::testing::RedisServer redis;
  testing::TcpRelay relay(redis.port());
  Replica a(redis.url());
  Replica b("redis://127.0.0.1:" + std::to_string(relay.port()));
  ASSERT_TRUE(eventually([&] { return a.sync->readiness().empty() && b.sync->readiness().empty(); }));
  a.create(message("before"));
  ASSERT_TRUE(b.wait_for_text("before", true));

  relay.cut();
  ASSERT_TRUE(eventually([&] { return !b.sync->readiness().empty(); }));
  a.create(message("while cut off 1"));
  a.create(message("while cut off 2"));
  ASSERT_TRUE(eventually([&] { return redis.redis_cli_line({"XLEN", "plume:sync:test"}) == "3"; }));
  EXPECT_TRUE(b.texts(true) == std::vector<std::string>{"before"});
  relay.restore();

  ASSERT_TRUE(b.wait_for_text("while cut off 2", true));
  EXPECT_EQ(b.texts(true), (std::vector<std::string>{"before", "while cut off 1", "while cut off 2"}));
}

TEST(ReplicaSync, ARedisRestartLosesNothingQueuedDuringItOrWrittenAfterIt) {
  plume::testing::RedisServer redis({.append_only = true});
  Replica a(redis.url()), b(redis.url());
  ASSERT_TRUE(eventually([&] { return a.sync->readiness().empty() && b.sync->readiness().empty(); }));
  a.create(message("before"));
  ASSERT_TRUE(b.wait_for_text("before", true));

  redis.stop();
  ASSERT_TRUE(eventually([&] { return !a.sync->readiness().empty(); }));
  // The calls succeed at once although Redis is down: their events wait in a's queue.
  a.create(message("queued 1"));
  a.create(message("queued 2"));
  a.create(message("queued 3"));
  EXPECT_EQ(a.texts(false), (std::vector<std::string>{"before", "queued 1", "queued 2", "queued 3"}));
  ASSERT_TRUE(eventually([&] { return a.sync->queued() == 3; }));
  redis.start();

  a.create(message("after 1"));
  b.create(message("from b after"));
  a.create(message("after 2"));
  ASSERT_TRUE(b.wait_for_text("after 2", true));
  ASSERT_TRUE(a.wait_for_text("from b after", true));
  EXPECT_EQ(b.texts(true),
            (std::vector<std::string>{"before", "queued 1", "queued 2", "queued 3", "after 1", "after 2"}));
  EXPECT_EQ(a.texts(true), std::vector<std::string>{"from b after"});
  EXPECT_EQ(a.sync->queued(), 0u);
  EXPECT_EQ(a.sync->dropped(), 0u);
  // The stream kept the entry from before the restart (append-only file) and has no repeats.
  EXPECT_EQ(redis.redis_cli_line({"XLEN", "plume:sync:test"}), "7");
}

TEST(ReplicaSync, ABadRedisUrlIsRejectedAtConstruction) {
  App app;
  SyncOptions options;
  options.redis = "http://127.0.0.1:6379";
  EXPECT_THROW(ReplicaSync(app, options), std::invalid_argument);
}

}  // namespace
}  // namespace plume::mesh
