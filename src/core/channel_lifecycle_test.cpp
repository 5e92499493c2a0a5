#include "core/channel_test_connection.hpp"
#include "core/run_sync_for_test.hpp"

#include <plume/core/app.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace plume {
namespace {

using testing::recording;
using testing::run_sync;

class Messages final : public Service {
 public:
  Task<Json> create(Json data, Params&) override { co_return data; }
};

struct Fixture {
  Fixture() { app.use("messages", std::make_unique<Messages>()); }
  App app{AppOptions{.worker_threads = 1}};
};

struct Fired {
  ConnectionEventKind kind;
  std::string connection;
  Json auth_result;
};

TEST(ChannelLifecycle, EachLifecycleCallFiresItsListenersWithTheConnection) {
  Fixture f;
  std::vector<Fired> fired;
  for (auto kind : {ConnectionEventKind::Connection, ConnectionEventKind::Disconnect,
                    ConnectionEventKind::Login, ConnectionEventKind::Logout}) {
    f.app.on_connection_event(kind, [&fired, kind](const ConnectionPtr& connection, const Json& auth_result) {
      fired.push_back({kind, connection->id(), auth_result});
    });
  }
  auto a = recording("a");
  f.app.connect(a);
  f.app.login(a, JsonObject{{"accessToken", "t"}});
  f.app.logout(a, JsonObject{{"accessToken", "t"}});
  f.app.disconnect(a);
  ASSERT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired[0].kind, ConnectionEventKind::Connection);
  EXPECT_EQ(fired[0].connection, "a");
  EXPECT_TRUE(fired[0].auth_result.is_null());
  EXPECT_EQ(fired[1].kind, ConnectionEventKind::Login);
  EXPECT_EQ(fired[1].auth_result, Json(JsonObject{{"accessToken", "t"}}));
  EXPECT_EQ(fired[2].kind, ConnectionEventKind::Logout);
  EXPECT_EQ(fired[3].kind, ConnectionEventKind::Disconnect);
}

TEST(ChannelLifecycle, DisconnectLeavesEveryChannelBeforeListenersRun) {
  Fixture f;
  auto a = recording("a"), b = recording("b");
  f.app.connect(a);
  f.app.connect(b);
  f.app.channel("one").join(a).join(b);
  f.app.channel("two").join(a);
  std::size_t in_one_during_listener = 99;
  f.app.on_connection_event(ConnectionEventKind::Disconnect, [&](const ConnectionPtr&, const Json&) {
    in_one_during_listener = f.app.channel("one").size();
  });
  f.app.disconnect(a);
  EXPECT_EQ(in_one_during_listener, 1u);
  EXPECT_EQ(f.app.channel_names(), (std::vector<std::string>{"one"}));  // "two" emptied and deleted
  EXPECT_TRUE(f.app.all_connections().size() == 1u);
}

TEST(ChannelLifecycle, LogoutLeavesEveryChannelButStaysConnected) {
  Fixture f;
  auto a = recording("a");
  f.app.connect(a);
  f.app.channel("authenticated").join(a);
  f.app.channel("rooms/1").join(a);
  // A listener may put the connection back among the anonymous ones.
  f.app.on_connection_event(ConnectionEventKind::Logout, [&](const ConnectionPtr& connection, const Json&) {
    f.app.channel("anonymous").join(connection);
  });
  f.app.logout(a);
  EXPECT_EQ(f.app.channel_names(), (std::vector<std::string>{"anonymous"}));
  EXPECT_EQ(f.app.all_connections().size(), 1u);
}

TEST(ChannelLifecycle, DefaultChannelsPublishToAuthenticatedConnectionsOnly) {
  Fixture f;
  install_default_channels(f.app);
  auto guest = recording("guest"), member = recording("member");
  f.app.connect(guest);
  f.app.connect(member);
  EXPECT_EQ(f.app.channel("anonymous").size(), 2u);

  f.app.login(member, JsonObject{{"accessToken", "t"}});
  EXPECT_EQ(f.app.channel("anonymous").connections(), ConnectionList{guest});
  EXPECT_EQ(f.app.channel("authenticated").connections(), ConnectionList{member});

  run_sync(f.app.create("messages", JsonObject{{"text", "hi"}}));
  EXPECT_EQ(guest->count(), 0u);
  ASSERT_EQ(member->count(), 1u);
  EXPECT_EQ(member->sent()[0].event, "created");

  // After logout the member hears nothing more.
  f.app.logout(member);
  run_sync(f.app.create("messages", JsonObject{{"text", "again"}}));
  EXPECT_EQ(member->count(), 1u);
}

TEST(ChannelLifecycle, DefaultChannelsLeaveServicePublishersFirst) {
  Fixture f;
  install_default_channels(f.app);
  auto member = recording("member");
  f.app.connect(member);
  f.app.login(member, nullptr);
  f.app.service("messages").publish([](const Json&, const HookContext&) { return Channels{}; });
  run_sync(f.app.create("messages", JsonObject{}));
  EXPECT_EQ(member->count(), 0u);
}

TEST(ChannelLifecycle, PublishToChannelAndToEveryone) {
  Fixture f;
  f.app.use("news", std::make_unique<Messages>());
  auto a = recording("a"), b = recording("b");
  f.app.connect(a);
  f.app.connect(b);
  f.app.channel("staff").join(b);
  f.app.service("messages").publish(publish_to_channel("staff"));
  f.app.service("news").publish(publish_to_everyone());
  run_sync(f.app.create("messages", JsonObject{}));
  run_sync(f.app.create("news", JsonObject{}));
  EXPECT_EQ(a->count(), 1u);
  EXPECT_EQ(b->count(), 2u);
  f.app.disconnect(a);
  run_sync(f.app.create("news", JsonObject{}));
  EXPECT_EQ(a->count(), 1u);
  EXPECT_EQ(b->count(), 3u);
}

TEST(ChannelLifecycle, ConcurrentJoinLeaveDisconnectAndPublishKeepChannelsConsistent) {
  Fixture f;
  f.app.publish([](const Json&, const HookContext& context) {
    return Channels{context.app.channel("room"), context.app.channel({"room", "other"}).send("x")};
  });
  auto steady = recording("steady");
  f.app.connect(steady);
  f.app.channel("room").join(steady);

  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  std::atomic<bool> publishing{true};
  std::size_t published = 0;
  std::thread publisher([&] {
    while (publishing) {
      run_sync(f.app.create("messages", JsonObject{{"n", 1}}));
      ++published;
    }
  });
  std::vector<std::thread> churners;
  for (int t = 0; t < kThreads; ++t) {
    churners.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto connection = recording("c" + std::to_string(t) + "-" + std::to_string(i));
        f.app.connect(connection);
        f.app.channel("room").join(connection);
        f.app.channel("other").join(connection);
        if (i % 2 == 0) f.app.channel("room").leave(connection);
        if (i % 3 == 0) f.app.logout(connection);
        f.app.disconnect(connection);
      }
    });
  }
  for (auto& churner : churners) churner.join();
  publishing = false;
  publisher.join();

  // Every churned connection is gone; the steady one stayed and heard every event once, with the
  // first channel's payload.
  EXPECT_EQ(f.app.channel("room").connections(), ConnectionList{steady});
  EXPECT_EQ(f.app.all_connections().size(), 1u);
  EXPECT_TRUE(f.app.channel("other").empty());
  EXPECT_EQ(steady->count(), published);
  for (const auto& event : steady->sent()) EXPECT_EQ(event.data, Json(JsonObject{{"n", 1}}));
}

}  // namespace
}  // namespace plume
