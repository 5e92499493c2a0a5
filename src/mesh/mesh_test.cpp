#include "mesh/link.hpp"
#include "mesh/mesh_test_support.hpp"
#include "mesh/remote_service.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace plume::mesh {
namespace {

using namespace testing;
using namespace std::chrono_literals;

bool has_proxy(App& app, std::string_view path) {
  auto entry = app.find_shared(path);
  return entry && dynamic_cast<RemoteService*>(&entry->service()) != nullptr;
}

// Gets on `items` reach two different owners (both links up and subscribed).
bool both_owners_serve(App& app) {
  if (!has_proxy(app, "items")) return false;
  std::set<std::string> seen;
  try {
    for (int i = 0; i < 4; ++i)
      seen.insert(std::string(run(app.get("items", Id(1))).at("servedBy").as_string()));
  } catch (const Error&) {
    return false;
  }
  return seen.size() == 2;
}

// An owner with `items` (records 1 and 2) and a consumer that dials it.
struct Pair {
  Pair(std::function<void(MeshOptions&)> tune = {}) {
    MeshOptions owner_options = fast_options("owner");
    if (tune) tune(owner_options);
    owner = std::make_unique<TestNode>(owner_options, [this](App& app) {
      auto service = std::make_unique<Items>("owner");
      items = service.get();
      items->put(1, JsonObject{{"name", "one"}});
      items->put(2, JsonObject{{"name", "two"}});
      app.use("items", std::move(service), ServiceOptions{.methods = {}, .events = {"archived"}});
    });
    owner->start();
    MeshOptions consumer_options = fast_options("consumer", {owner->url()});
    if (tune) tune(consumer_options);
    consumer = std::make_unique<TestNode>(consumer_options, [this](App& app) {
      app.on_event([this](const ServiceEvent& event) {
        std::lock_guard lock(mutex);
        events.push_back(JsonObject{{"path", event.path}, {"event", event.event}, {"data", event.data}});
      });
    });
    consumer->start();
    EXPECT_TRUE(wait_until([&] { return has_proxy(consumer->app, "items"); })) << "no proxy for items";
  }

  std::vector<Json> events_seen() {
    std::lock_guard lock(mutex);
    return events;
  }

  std::unique_ptr<TestNode> owner;
  std::unique_ptr<TestNode> consumer;
  Items* items = nullptr;
  std::mutex mutex;
  std::vector<Json> events;
};

TEST(Mesh, EveryStandardMethodWorksThroughAProxy) {
  Pair pair;
  App& app = pair.consumer->app;
  EXPECT_EQ(run(app.get("items", Id(1))).at("name"), "one");
  EXPECT_EQ(run(app.get("items", Id(1))).at("servedBy"), "owner");
  EXPECT_EQ(run(app.find("items")).as_array().size(), 2u);
  const Json created = run(app.create("items", JsonObject{{"name", "three"}}));
  EXPECT_EQ(created.at("id"), 100);
  EXPECT_EQ(run(app.update("items", Id(100), JsonObject{{"name", "tres"}})).at("name"), "tres");
  EXPECT_EQ(run(app.patch("items", Id(100), JsonObject{{"done", true}})).at("done"), true);
  const Json many = run(app.patch("items", std::nullopt, JsonObject{{"seen", true}}));
  EXPECT_EQ(many.as_array().size(), 3u);
  EXPECT_EQ(run(app.remove("items", Id(100))).at("name"), "tres");
  EXPECT_EQ(run(app.find("items")).as_array().size(), 2u);
}

TEST(Mesh, CustomMethodsWorkThroughAProxyWithTheForwardedProvider) {
  Pair pair;
  Params params;
  params.provider = "rest";
  const Json result = run(pair.consumer->app.call("items", "archive", JsonObject{{"id", 2}}, params));
  EXPECT_EQ(result.at("archived"), 2);
  EXPECT_EQ(result.at("by"), "owner");
  EXPECT_EQ(result.at("provider"), "rest");
}

TEST(Mesh, RemoteErrorsKeepClassMessageCodeAndData) {
  Pair pair;
  App& app = pair.consumer->app;
  const Error missing = error_of(app.get("items", Id(42)));
  EXPECT_EQ(missing.code(), ErrorCode::NotFound);
  EXPECT_EQ(missing.message(), "No record found for id '42'");
  EXPECT_EQ(missing.data(), (JsonObject{{"id", 42}}));
  const Error invalid = error_of(app.call("items", "archive", JsonObject{}));
  EXPECT_EQ(invalid.code(), ErrorCode::Unprocessable);
  EXPECT_EQ(invalid.data(), (JsonObject{{"field", "id"}}));
  const Error bad = error_of(app.create("items", Json("not an object")));
  EXPECT_EQ(bad.code(), ErrorCode::BadRequest);
  EXPECT_EQ(bad.message(), "data must be an object");
}

TEST(Mesh, OwnerRunsExternalOnlyHooksWithTheForwardedProviderAndHeaders) {
  Pair pair;
  // Like `auth: jwt` on the owner: external calls need credentials, internal ones pass.
  pair.owner->app.service("items").hooks(
      {.before = {{"all", {[](HookContext& context) -> Task<void> {
                     if (context.params.is_external() && !context.params.headers.contains("authorization")) {
                       throw not_authenticated("Not authenticated");
                     }
                     co_return;
                   }}}}});
  App& app = pair.consumer->app;
  Params external;
  external.provider = "rest";
  EXPECT_EQ(error_of(app.get("items", Id(1), external)).code(), ErrorCode::NotAuthenticated);
  external.headers["authorization"] = "Bearer token";
  EXPECT_EQ(run(app.get("items", Id(1), external)).at("name"), "one");
  EXPECT_EQ(run(app.get("items", Id(2))).at("name"), "two");
}

TEST(Mesh, EventsReachTheConsumerExactlyOnceInTheirEnvelope) {
  Pair pair;
  App& app = pair.consumer->app;
  // Through the proxy, and on the owner directly: each event arrives once, from the owner.
  run(app.create("items", JsonObject{{"name", "via proxy"}, {"path", "somewhere/else"}}));
  run(pair.owner->app.create("items", JsonObject{{"name", "on owner"}}));
  run(pair.owner->app.patch("items", Id(1), JsonObject{{"x", 1}}));
  ASSERT_TRUE(wait_until([&] { return pair.events_seen().size() >= 3; }));
  std::this_thread::sleep_for(300ms);  // room for a duplicate to show up
  const auto events = pair.events_seen();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("event"), "created");
  EXPECT_EQ(events[0].at("path"), "items");
  EXPECT_EQ(events[0].at("data").at("path"), "somewhere/else");  // the record's own field
  EXPECT_EQ(events[0].at("data").at("name"), "via proxy");
  EXPECT_EQ(events[1].at("data").at("name"), "on owner");
  EXPECT_EQ(events[2].at("event"), "patched");
}

TEST(Mesh, CustomEventsTravelToo) {
  Pair pair;
  pair.items->emit("archived", JsonObject{{"id", 1}});
  ASSERT_TRUE(wait_until([&] { return !pair.events_seen().empty(); }));
  EXPECT_EQ(pair.events_seen().front().at("event"), "archived");
}

TEST(Mesh, FirstEventAfterDiscoveryIsNotLost) {
  for (int round = 0; round < 3; ++round) {
    Pair pair;  // returns as soon as the proxy exists
    run(pair.owner->app.create("items", JsonObject{{"round", round}}));
    EXPECT_TRUE(wait_until([&] { return pair.events_seen().size() == 1; }, 5'000ms)) << "round " << round;
  }
}

TEST(Mesh, LocalServiceWinsOverARemoteOne) {
  TestNode owner(fast_options("owner"), [](App& app) { app.use("items", std::make_unique<Items>("owner")); });
  owner.start();
  TestNode consumer(fast_options("consumer", {owner.url()}), [](App& app) {
    auto local = std::make_unique<Items>("local");
    local->put(1, JsonObject{{"name", "mine"}});
    app.use("items", std::move(local));
    app.use("other", std::make_unique<Items>("local"));
  });
  consumer.start();
  ASSERT_TRUE(wait_until([&] {
    const Json nodes = consumer.mesh->nodes();
    for (const auto& node : nodes.as_array()) {
      if (node.at("self") == false && node.at("state") == "up") return true;
    }
    return false;
  }));
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(has_proxy(consumer.app, "items"));
  EXPECT_EQ(run(consumer.app.get("items", Id(1))).at("servedBy"), "local");
}

TEST(Mesh, StaticPeersListingEachOtherSettleOnOneLinkAndServeBothWays) {
  const std::uint16_t port_a = free_tcp_port();
  const std::uint16_t port_b = free_tcp_port();
  const std::string url_a = "ws://127.0.0.1:" + std::to_string(port_a);
  const std::string url_b = "ws://127.0.0.1:" + std::to_string(port_b);
  auto owner = [](std::string path, std::string name) {
    return [path, name](App& app) {
      auto items = std::make_unique<Items>(name);
      items->put(1, JsonObject{{"name", "one"}});
      app.use(path, std::move(items));
    };
  };
  TestNode a(fast_options("a", {url_b}), owner("alpha", "a"), port_a);
  TestNode b(fast_options("b", {url_a}), owner("beta", "b"), port_b);
  a.start();
  b.start();
  ASSERT_TRUE(wait_until([&] { return has_proxy(a.app, "beta") && has_proxy(b.app, "alpha"); }));
  // Both dialed: the duplicate goes, and what remains keeps serving both ways.
  std::this_thread::sleep_for(500ms);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(run(a.app.get("beta", Id(1))).at("servedBy"), "b");
    EXPECT_EQ(run(b.app.get("alpha", Id(1))).at("servedBy"), "a");
  }
  const Json nodes = a.mesh->nodes();
  ASSERT_EQ(nodes.as_array().size(), 2u);
  EXPECT_EQ(nodes.as_array()[1].at("state"), "up");
}

TEST(Mesh, TwoOwnersAreBalancedRoundRobin) {
  auto owner_with = [](std::string name) {
    return [name](App& app) {
      auto items = std::make_unique<Items>(name);
      items->put(1, JsonObject{{"name", "one"}});
      app.use("items", std::move(items));
    };
  };
  TestNode a(fast_options("a"), owner_with("a"));
  a.start();
  TestNode b(fast_options("b"), owner_with("b"));
  b.start();
  TestNode consumer(fast_options("consumer", {a.url(), b.url()}));
  consumer.start();
  ASSERT_TRUE(wait_until([&] {
    auto nodes = consumer.mesh->nodes();
    int up = 0;
    for (const auto& node : nodes.as_array()) {
      if (node.at("state") == "up" && node.at("self") == false) ++up;
    }
    return up == 2 && has_proxy(consumer.app, "items");
  }));
  // Both providers must be routable before counting.
  ASSERT_TRUE(wait_until([&] { return both_owners_serve(consumer.app); }));
  std::map<std::string, int> counts;
  std::string previous;
  for (int i = 0; i < 20; ++i) {
    const std::string by(run(consumer.app.get("items", Id(1))).at("servedBy").as_string());
    EXPECT_NE(by, previous) << "call " << i;
    previous = by;
    ++counts[by];
  }
  EXPECT_EQ(counts["a"], 10);
  EXPECT_EQ(counts["b"], 10);
}

TEST(Mesh, LosingAnOwnerRetriesGetsElsewhereAndFailsCreatesFast) {
  Items* slow_a = nullptr;
  TestNode a(fast_options("a"), [&](App& app) {
    auto items = std::make_unique<Items>("a");
    items->put(1, JsonObject{{"name", "one"}});
    items->delay = 200ms;  // calls are in flight when it goes
    slow_a = items.get();
    app.use("items", std::move(items));
  });
  a.start();
  TestNode b(fast_options("b"), [](App& app) {
    auto items = std::make_unique<Items>("b");
    items->put(1, JsonObject{{"name", "one"}});
    app.use("items", std::move(items));
  });
  b.start();
  MeshOptions options = fast_options("consumer", {a.url(), b.url()});
  options.breaker.enabled = false;
  TestNode consumer(options);
  consumer.start();
  ASSERT_TRUE(wait_until([&] { return both_owners_serve(consumer.app); }));

  std::atomic<bool> done{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      while (!done) {
        try {
          run(consumer.app.get("items", Id(1)));
          ++ok;
        } catch (const std::exception& e) {
          ++failed;
          ADD_FAILURE() << "get failed: " << e.what();
        }
      }
    });
  }
  ASSERT_TRUE(wait_until([&] { return slow_a->gets.load() >= 4; }));
  // Creates go round-robin too: one of them is in flight on a (slow) when a goes.
  std::atomic<int> create_code{0};
  std::atomic<long long> create_ms{0};
  std::atomic<bool> stop_creating{false};
  std::thread creator([&] {
    for (int i = 0; create_code == 0 && !stop_creating; ++i) {
      const auto start = std::chrono::steady_clock::now();
      try {
        run(consumer.app.create("items", JsonObject{{"n", i}}));
      } catch (const Error& e) {
        create_code = e.status();
        create_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
                .count();
      }
    }
  });
  std::this_thread::sleep_for(100ms);
  a.stop();
  EXPECT_TRUE(wait_until([&] { return create_code != 0; }, 5'000ms));
  stop_creating = true;
  creator.join();
  std::this_thread::sleep_for(300ms);
  done = true;
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(create_code.load(), 503);
  EXPECT_LT(create_ms.load(), 3'000);
  // b alone serves from now on.
  EXPECT_EQ(run(consumer.app.get("items", Id(1))).at("servedBy"), "b");
}

TEST(Mesh, CallPastItsDeadlineFailsWith408AndItsLateReplyIsDropped) {
  Pair pair([](MeshOptions& options) { options.call_timeout = 200ms; });
  pair.items->delay = 600ms;
  const auto start = std::chrono::steady_clock::now();
  const Error error = error_of(pair.consumer->app.get("items", Id(1)));
  EXPECT_EQ(error.code(), ErrorCode::Timeout);
  EXPECT_EQ(error.message(), "Timeout of 200 ms exceeded calling items.get on owner");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 550ms);
  pair.items->delay = 0ms;
  std::this_thread::sleep_for(700ms);  // the late reply arrives and finds nobody
  EXPECT_EQ(run(pair.consumer->app.get("items", Id(2))).at("name"), "two");
}

TEST(Mesh, CallsWaitingOnOneNodeAreBounded) {
  Pair pair([](MeshOptions& options) { options.max_pending = 1; });
  pair.items->delay = 500ms;
  std::thread first([&] { EXPECT_EQ(run(pair.consumer->app.get("items", Id(1))).at("name"), "one"); });
  ASSERT_TRUE(wait_until([&] { return pair.items->gets.load() == 1; }));
  const Error busy = error_of(pair.consumer->app.get("items", Id(2)));
  EXPECT_EQ(busy.code(), ErrorCode::Unavailable);
  EXPECT_EQ(busy.message().rfind("Too many calls waiting for owner", 0), 0u) << busy.message();
  first.join();
  pair.items->delay = 0ms;
  EXPECT_EQ(run(pair.consumer->app.get("items", Id(2))).at("name"), "two");
}

TEST(Mesh, BreakerStopsRoutingToAFailingNode) {
  Pair pair([](MeshOptions& options) {
    options.breaker.min_requests = 3;
    options.breaker.half_open_after = 60'000ms;
  });
  pair.items->fail_gets = true;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(error_of(pair.consumer->app.get("items", Id(1))).code(), ErrorCode::GeneralError);
  }
  const int gets_before = pair.items->gets;
  const Error open = error_of(pair.consumer->app.get("items", Id(1)));
  EXPECT_EQ(open.code(), ErrorCode::Unavailable);
  EXPECT_NE(open.message().find("circuit open"), std::string::npos) << open.message();
  EXPECT_EQ(pair.items->gets.load(), gets_before);  // never reached the owner
  bool listed = false;
  const Json nodes = pair.consumer->mesh->nodes();
  for (const auto& node : nodes.as_array()) {
    if (node.at("id") == "owner") listed = node.at("breakers").at("items").at("state") == "open";
  }
  EXPECT_TRUE(listed);
}

TEST(Mesh, ClientErrorsDoNotOpenTheBreaker) {
  Pair pair([](MeshOptions& options) { options.breaker.min_requests = 3; });
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(error_of(pair.consumer->app.get("items", Id(404))).code(), ErrorCode::NotFound);
  }
  EXPECT_EQ(run(pair.consumer->app.get("items", Id(1))).at("name"), "one");
}

TEST(Mesh, ProxyIsRemovedOnlyWhenTheLastOwnerLeaves) {
  auto owner_with = [](std::string name) {
    return [name](App& app) {
      auto items = std::make_unique<Items>(name);
      items->put(1, JsonObject{{"name", "one"}});
      app.use("items", std::move(items));
    };
  };
  auto a = std::make_unique<TestNode>(fast_options("a"), owner_with("a"));
  a->start();
  auto b = std::make_unique<TestNode>(fast_options("b"), owner_with("b"));
  b->start();
  TestNode consumer(fast_options("consumer", {a->url(), b->url()}));
  consumer.start();
  ASSERT_TRUE(wait_until([&] { return both_owners_serve(consumer.app); }));
  a->stop();
  // Well past a's node_timeout: the proxy stays, backed by b.
  std::this_thread::sleep_for(1'500ms);
  EXPECT_TRUE(has_proxy(consumer.app, "items"));
  EXPECT_EQ(run(consumer.app.get("items", Id(1))).at("servedBy"), "b");
  b->stop();
  EXPECT_TRUE(wait_until([&] { return !has_proxy(consumer.app, "items"); }, 10'000ms));
  EXPECT_EQ(error_of(consumer.app.get("items", Id(1))).code(), ErrorCode::NotFound);
}

TEST(Mesh, ServiceAddedLaterOnTheOwnerIsOfferedAndRemovedWhenUnused) {
  Pair pair;
  pair.owner->app.use("later", std::make_unique<Items>("owner"));
  ASSERT_TRUE(wait_until([&] { return has_proxy(pair.consumer->app, "later"); }));
  pair.owner->app.unuse("later");
  EXPECT_TRUE(wait_until([&] { return !has_proxy(pair.consumer->app, "later"); }));
  EXPECT_TRUE(has_proxy(pair.consumer->app, "items"));
}

TEST(Mesh, PublishAndConsumeGlobsFilterServices) {
  MeshOptions owner_options = fast_options("owner");
  owner_options.publish = {"public/*"};
  TestNode owner(owner_options, [](App& app) {
    app.use("public/a", std::make_unique<Items>("owner"));
    app.use("public/b", std::make_unique<Items>("owner"));
    app.use("private", std::make_unique<Items>("owner"));
  });
  owner.start();
  MeshOptions consumer_options = fast_options("consumer", {owner.url()});
  consumer_options.consume = {"*/a"};
  TestNode consumer(consumer_options);
  consumer.start();
  ASSERT_TRUE(wait_until([&] { return has_proxy(consumer.app, "public/a"); }));
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(has_proxy(consumer.app, "public/b"));
  EXPECT_FALSE(has_proxy(consumer.app, "private"));
}

TEST(Mesh, NodeWithTheWrongSecretNeverGetsProxies) {
  TestNode owner(fast_options("owner"), [](App& app) { app.use("items", std::make_unique<Items>("owner")); });
  owner.start();
  MeshOptions intruder_options = fast_options("intruder", {owner.url()});
  intruder_options.secret = "wrong";
  const auto rejected_before = rejected_handshakes();
  TestNode intruder(intruder_options);
  intruder.start();
  ASSERT_TRUE(wait_until([&] { return intruder.mesh->readiness().empty(); }));
  ASSERT_TRUE(wait_until([&] { return rejected_handshakes() > rejected_before; }));
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(has_proxy(intruder.app, "items"));
  EXPECT_EQ(owner.mesh->nodes().as_array().size(), 1u);  // only itself
}

TEST(Mesh, MeshNodesListsSelfAndPeers) {
  Pair pair;
  const Json nodes = run(pair.consumer->app.find("mesh/nodes"));
  ASSERT_EQ(nodes.as_array().size(), 2u);
  const Json& self = nodes.as_array()[0];
  EXPECT_EQ(self.at("id"), "consumer");
  EXPECT_EQ(self.at("self"), true);
  const Json& peer = nodes.as_array()[1];
  EXPECT_EQ(peer.at("id"), "owner");
  EXPECT_EQ(peer.at("state"), "up");
  EXPECT_EQ(peer.at("address"), Json("127.0.0.1:" + std::to_string(pair.owner->port)));
  EXPECT_EQ(peer.at("services"), (JsonArray{"items"}));
  EXPECT_EQ(peer.at("self"), false);
  EXPECT_TRUE(peer.at("latencyMs").is_number());
  // mesh/nodes itself is never offered to peers.
  EXPECT_FALSE(has_proxy(pair.consumer->app, "mesh/nodes"));
}

TEST(Mesh, ReadyOnceDiscoveryRunsAndPeersWereTried) {
  TestNode lonely(fast_options("lonely", {"ws://127.0.0.1:1"}));
  EXPECT_FALSE(lonely.mesh->readiness().empty());
  lonely.start();
  EXPECT_TRUE(wait_until([&] { return lonely.mesh->readiness().empty(); }));
}

}  // namespace
}  // namespace plume::mesh
