#include "core/channel_test_connection.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace plume {
namespace {

using testing::recording;

std::vector<std::string> ids(const ConnectionList& connections) {
  std::vector<std::string> result;
  for (const auto& connection : connections) result.push_back(connection->id());
  std::sort(result.begin(), result.end());
  return result;
}

struct Fixture {
  Fixture() {
    for (auto* connection : {&a, &b, &c}) app.connect(*connection);
  }
  App app{AppOptions{.worker_threads = 1}};
  std::shared_ptr<testing::RecordingConnection> a = recording("a"), b = recording("b"), c = recording("c");
};

TEST(Channel, JoinAddsConnectionsOnceAndEveryHandleSeesThem) {
  Fixture f;
  f.app.channel("room").join(f.a).join(f.b).join(f.a);
  EXPECT_EQ(ids(f.app.channel("room").connections()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.app.channel("room").size(), 2u);
}

TEST(Channel, LeaveRemovesAConnectionOrThoseMatchingAPredicate) {
  Fixture f;
  Channel room = f.app.channel("room");
  room.join({f.a, f.b, f.c});
  room.leave(f.b);
  EXPECT_EQ(ids(room.connections()), (std::vector<std::string>{"a", "c"}));
  room.leave([](const Connection& connection) { return connection.id() == "c"; });
  EXPECT_EQ(ids(room.connections()), (std::vector<std::string>{"a"}));
}

TEST(Channel, ChannelIsCreatedByNameAndListed) {
  Fixture f;
  f.app.channel("lobby");
  f.app.channel("room").join(f.a);
  EXPECT_EQ(f.app.channel_names(), (std::vector<std::string>{"lobby", "room"}));
}

TEST(Channel, NamedChannelIsDeletedWhenALeaveEmptiesIt) {
  Fixture f;
  Channel room = f.app.channel("room");
  room.join(f.a);
  room.leave(f.a);
  EXPECT_TRUE(f.app.channel_names().empty());
  // A later join through the old handle creates it again.
  room.join(f.b);
  EXPECT_EQ(f.app.channel_names(), (std::vector<std::string>{"room"}));
  EXPECT_EQ(ids(f.app.channel("room").connections()), (std::vector<std::string>{"b"}));
}

TEST(Channel, FilterGivesAnUnnamedSnapshot) {
  Fixture f;
  f.app.channel("room").join({f.a, f.b, f.c});
  Channel some =
      f.app.channel("room").filter([](const Connection& connection) { return connection.id() != "b"; });
  EXPECT_EQ(ids(some.connections()), (std::vector<std::string>{"a", "c"}));
  // The snapshot is a value: changing it leaves the named channel alone, and the reverse.
  some.leave(f.a);
  f.app.channel("room").leave(f.c);
  EXPECT_EQ(ids(some.connections()), (std::vector<std::string>{"c"}));
  EXPECT_EQ(ids(f.app.channel("room").connections()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.app.channel_names(), (std::vector<std::string>{"room"}));
}

TEST(Channel, SendKeepsTheConnectionsAndCarriesThePayload) {
  Fixture f;
  f.app.channel("room").join({f.a, f.b});
  const Channel custom = f.app.channel("room").send(JsonObject{{"text", "short"}});
  ASSERT_NE(custom.data(), nullptr);
  EXPECT_EQ(*custom.data(), Json(JsonObject{{"text", "short"}}));
  EXPECT_EQ(ids(custom.connections()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.app.channel("room").data(), nullptr);
  // filter keeps the payload.
  const Channel filtered = custom.filter([](const Connection& connection) { return connection.id() == "a"; });
  ASSERT_NE(filtered.data(), nullptr);
  EXPECT_EQ(*filtered.data(), Json(JsonObject{{"text", "short"}}));
}

TEST(Channel, CombinedChannelDeduplicatesConnections) {
  Fixture f;
  f.app.channel("one").join({f.a, f.b});
  f.app.channel("two").join({f.b, f.c});
  const Channel both = f.app.channel({"one", "two"});
  EXPECT_EQ(both.size(), 3u);
  EXPECT_EQ(ids(both.connections()), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Channel, CombinedChannelJoinAndLeaveApplyToEachChannel) {
  Fixture f;
  f.app.channel("one").join(f.b);
  f.app.channel("two").join(f.b);
  Channel both = f.app.channel(std::vector<std::string>{"one", "two"});
  both.join(f.a);
  EXPECT_EQ(ids(f.app.channel("one").connections()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ids(f.app.channel("two").connections()), (std::vector<std::string>{"a", "b"}));
  both.leave(f.b);
  EXPECT_EQ(ids(f.app.channel("two").connections()), (std::vector<std::string>{"a"}));
}

TEST(Channel, ChannelWithoutNamesIsAnError) {
  Fixture f;
  try {
    f.app.channel(std::vector<std::string>{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "app.channel needs at least one channel name");
  }
}

TEST(Channel, ConnectionThatIsNotConnectedCannotJoinANamedChannel) {
  Fixture f;
  auto stranger = recording("stranger");
  f.app.channel("room").join(stranger).join(f.a);
  EXPECT_EQ(ids(f.app.channel("room").connections()), (std::vector<std::string>{"a"}));
  // Nor can one that has disconnected (a login finishing after the socket closed).
  f.app.disconnect(f.a);
  f.app.channel("room").join(f.a);
  EXPECT_TRUE(f.app.channel("room").empty());
}

TEST(Channel, DefaultChannelCollectsJoinsAsAValue) {
  Fixture f;
  Channel adhoc;
  adhoc.join(f.a).join(f.b).join(f.a);
  EXPECT_EQ(ids(adhoc.connections()), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(f.app.channel_names().empty());
}

TEST(Channel, AllConnectionsFollowsConnectAndDisconnect) {
  Fixture f;
  const Channel everyone = f.app.all_connections();
  EXPECT_EQ(ids(everyone.connections()), (std::vector<std::string>{"a", "b", "c"}));
  f.app.disconnect(f.b);
  EXPECT_EQ(ids(everyone.connections()), (std::vector<std::string>{"a", "c"}));
}

}  // namespace
}  // namespace plume
