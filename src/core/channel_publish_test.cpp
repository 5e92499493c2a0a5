#include "core/channel_test_connection.hpp"
#include "core/run_sync_for_test.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plume {
namespace {

using testing::recording;
using testing::run_sync;

// Echoes create/patch data (arrays included, as a multi call would) and emits "typing".
class Messages final : public Service {
 public:
  Task<Json> create(Json data, Params&) override { co_return data; }
  Task<Json> patch(const NullableId&, Json data, Params&) override { co_return data; }
  Task<Json> remove(const NullableId&, Params&) override { co_return JsonObject{{"id", 1}}; }
  Task<Json> call_custom(std::string_view method, Json data, Params& params) override {
    if (method != "typing") return Service::call_custom(method, std::move(data), params);
    emit("typing", data);
    return typed();
  }

 private:
  static Task<Json> typed() { co_return nullptr; }
};

Publisher to(std::string name) {
  return [name](const Json&, const HookContext& context) { return Channels{context.app.channel(name)}; };
}

struct Fixture {
  Fixture() {
    app.use("messages", std::make_unique<Messages>(), ServiceOptions{.events = {"typing"}});
    for (auto* connection : {&a, &b, &c}) app.connect(*connection);
    app.channel("a").join(a);
    app.channel("b").join(b);
    app.channel("c").join(c);
  }
  ServiceEntry& messages() { return app.service("messages"); }
  App app{AppOptions{.worker_threads = 1}};
  std::shared_ptr<testing::RecordingConnection> a = recording("a"), b = recording("b"), c = recording("c");
};

TEST(ChannelPublish, EventGoesToThePublishersChannelWithPathAndEventName) {
  Fixture f;
  f.app.publish(to("a"));
  run_sync(f.app.create("messages", JsonObject{{"text", "hi"}}));
  const auto sent = f.a->sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].path, "messages");
  EXPECT_EQ(sent[0].event, "created");
  EXPECT_EQ(sent[0].data, Json(JsonObject{{"text", "hi"}}));
  EXPECT_EQ(f.b->count(), 0u);
}

TEST(ChannelPublish, NoPublisherSendsNothing) {
  Fixture f;
  run_sync(f.app.create("messages", JsonObject{}));
  EXPECT_EQ(f.a->count() + f.b->count() + f.c->count(), 0u);
}

TEST(ChannelPublish, PublisherPrecedenceServiceEventThenServiceAllThenAppEventThenAppAll) {
  Fixture f;
  auto d = recording("d");
  f.app.connect(d);
  f.app.channel("d").join(d);
  f.app.publish(to("d"));
  f.app.publish("created", to("c"));
  f.messages().publish(to("b"));
  f.messages().publish("created", to("a"));

  run_sync(f.app.create("messages", JsonObject{}));        // service publisher for the event
  run_sync(f.app.patch("messages", Id(1), JsonObject{}));  // service catch-all
  EXPECT_EQ(f.a->count(), 1u);
  EXPECT_EQ(f.b->count(), 1u);
  EXPECT_EQ(f.b->sent()[0].event, "patched");

  // Without service publishers the app's decide: app publisher for the event, then catch-all.
  f.app.use("other", std::make_unique<Messages>());
  run_sync(f.app.create("other", JsonObject{}));
  run_sync(f.app.remove("other", Id(1)));
  ASSERT_EQ(f.c->count(), 1u);
  EXPECT_EQ(f.c->sent()[0].path, "other");
  EXPECT_EQ(f.c->sent()[0].event, "created");
  ASSERT_EQ(d->count(), 1u);
  EXPECT_EQ(d->sent()[0].event, "removed");
}

TEST(ChannelPublish, RegisteringAgainReplacesThePublisher) {
  Fixture f;
  f.messages().publish("created", to("a"));
  f.messages().publish("created", to("b"));
  run_sync(f.app.create("messages", JsonObject{}));
  EXPECT_EQ(f.a->count(), 0u);
  EXPECT_EQ(f.b->count(), 1u);
}

TEST(ChannelPublish, ServicePublisherForAnEventTheServiceDoesNotEmitIsRejected) {
  Fixture f;
  try {
    f.messages().publish("exploded", to("a"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::GeneralError);
    EXPECT_EQ(e.message(), "'exploded' is not a valid service event");
  }
  // Custom events the service declares are fine.
  EXPECT_NO_THROW(f.messages().publish("typing", to("a")));
}

TEST(ChannelPublish, EventRenamedToOneTheServiceDoesNotEmitIsNotPublished) {
  Fixture f;
  f.app.publish(to("a"));
  f.app.hooks({.after = {{"create", {[](HookContext& context) -> Task<void> {
                            context.event = "posted";
                            co_return;
                          }}}}});
  run_sync(f.app.create("messages", JsonObject{}));
  EXPECT_EQ(f.a->count(), 0u);
}

TEST(ChannelPublish, DispatchIsSentInsteadOfTheResult) {
  Fixture f;
  f.app.publish(to("a"));
  f.messages().hooks({.after = {{"create", {[](HookContext& context) -> Task<void> {
                                   context.dispatch = JsonObject{{"safe", true}};
                                   co_return;
                                 }}}}});
  EXPECT_EQ(run_sync(f.app.create("messages", JsonObject{{"secret", 1}})), Json(JsonObject{{"secret", 1}}));
  ASSERT_EQ(f.a->count(), 1u);
  EXPECT_EQ(f.a->sent()[0].data, Json(JsonObject{{"safe", true}}));
}

TEST(ChannelPublish, ChannelSendDataWinsOverDispatch) {
  Fixture f;
  f.app.publish([](const Json&, const HookContext& context) {
    return Channels{context.app.channel("a").send(JsonObject{{"custom", 1}}), context.app.channel("b")};
  });
  f.messages().hooks({.after = {{"create", {[](HookContext& context) -> Task<void> {
                                   context.dispatch = JsonObject{{"safe", true}};
                                   co_return;
                                 }}}}});
  run_sync(f.app.create("messages", JsonObject{}));
  EXPECT_EQ(f.a->sent().at(0).data, Json(JsonObject{{"custom", 1}}));
  EXPECT_EQ(f.b->sent().at(0).data, Json(JsonObject{{"safe", true}}));
}

TEST(ChannelPublish, ConnectionInSeveralChannelsGetsTheEventOnceWithTheFirstChannelsData) {
  Fixture f;
  f.app.channel("ab").join({f.a, f.b});
  f.app.publish([](const Json&, const HookContext& context) {
    return Channels{context.app.channel("a").send("first"), context.app.channel("ab").send("second"),
                    context.app.channel({"ab", "b"})};
  });
  run_sync(f.app.create("messages", JsonObject{}));
  ASSERT_EQ(f.a->count(), 1u);
  EXPECT_EQ(f.a->sent()[0].data, Json("first"));
  ASSERT_EQ(f.b->count(), 1u);
  EXPECT_EQ(f.b->sent()[0].data, Json("second"));
}

TEST(ChannelPublish, CombinedChannelSendsEachConnectionOnce) {
  Fixture f;
  f.app.channel("ab").join({f.a, f.b});
  f.app.publish([](const Json&, const HookContext& context) {
    return Channels{context.app.channel({"a", "ab"})};
  });
  run_sync(f.app.create("messages", JsonObject{}));
  EXPECT_EQ(f.a->count(), 1u);
  EXPECT_EQ(f.b->count(), 1u);
}

TEST(ChannelPublish, MultiResultPublishesOneEventPerRecordWithItsDispatchEntry) {
  Fixture f;
  std::vector<Json> published_data;
  f.app.publish([&](const Json& data, const HookContext& context) {
    published_data.push_back(data);
    return Channels{context.app.channel("a")};
  });
  // Dispatch holds "safe" copies that differ from the records: each event carries its own entry.
  f.messages().hooks({.after = {{"patch", {[](HookContext& context) -> Task<void> {
                                   JsonArray safe;
                                   for (const auto& record : context.result->as_array()) {
                                     safe.push_back(JsonObject{{"id", record.at("id")}});
                                   }
                                   context.dispatch = std::move(safe);
                                   co_return;
                                 }}}}});
  run_sync(
      f.app.patch("messages", std::nullopt,
                  JsonArray{JsonObject{{"id", 1}, {"secret", "x"}}, JsonObject{{"id", 2}, {"secret", "y"}}}));
  ASSERT_EQ(published_data.size(), 2u);
  EXPECT_EQ(published_data[0], Json(JsonObject{{"id", 1}, {"secret", "x"}}));
  const auto sent = f.a->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].data, Json(JsonObject{{"id", 1}}));
  EXPECT_EQ(sent[1].data, Json(JsonObject{{"id", 2}}));
}

TEST(ChannelPublish, MultiResultWithoutDispatchSendsEachRecord) {
  Fixture f;
  f.app.publish(to("a"));
  run_sync(f.app.patch("messages", std::nullopt, JsonArray{JsonObject{{"id", 1}}, JsonObject{{"id", 2}}}));
  const auto sent = f.a->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].data, Json(JsonObject{{"id", 1}}));
  EXPECT_EQ(sent[1].data, Json(JsonObject{{"id", 2}}));
}

TEST(ChannelPublish, CustomEventIsPublishedWithItsDataAndAMadeUpContext) {
  Fixture f;
  std::string seen_path;
  bool result_is_data = false;
  f.messages().publish("typing", [&](const Json& data, const HookContext& context) {
    seen_path = context.path;
    result_is_data = context.result && *context.result == data;
    return Channels{context.app.channel("b")};
  });
  run_sync(f.app.call("messages", "typing", JsonObject{{"user", "ann"}}));
  EXPECT_EQ(seen_path, "messages");
  EXPECT_TRUE(result_is_data);
  const auto sent = f.b->sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].event, "typing");
  EXPECT_EQ(sent[0].data, Json(JsonObject{{"user", "ann"}}));
}

TEST(ChannelPublish, PublisherReturningNoChannelsSendsNothing) {
  Fixture f;
  f.app.publish([](const Json&, const HookContext&) { return Channels{}; });
  EXPECT_NO_THROW(run_sync(f.app.create("messages", JsonObject{})));
  EXPECT_EQ(f.a->count() + f.b->count() + f.c->count(), 0u);
}

TEST(ChannelPublish, FailingPublisherDoesNotFailTheCall) {
  Fixture f;
  f.app.publish([](const Json&, const HookContext&) -> Channels { throw std::runtime_error("boom"); });
  EXPECT_EQ(run_sync(f.app.create("messages", JsonObject{{"x", 1}})), Json(JsonObject{{"x", 1}}));
}

// A transport that encodes its frame once per event, as PublishedEvent::encoded allows.
class FramingConnection final : public Connection {
 public:
  FramingConnection(std::string id, int& encodes)
      : Connection(std::move(id), "socketio", {}), encodes_(encodes) {}
  void send_event(std::string_view, std::string_view, const Json&) override {
    ADD_FAILURE() << "not the shared path";
  }
  void send_published(const PublishedEvent& event) override {
    frames.push_back(event.encoded("test", [&] {
      ++encodes_;
      return std::string(event.path()) + " " + std::string(event.event()) + " " + to_json_text(event.data());
    }));
  }
  void close(std::string_view) override {}
  std::vector<std::shared_ptr<const std::string>> frames;

 private:
  int& encodes_;
};

TEST(ChannelPublish, TransportEncodesEachPayloadOncePerEvent) {
  Fixture f;
  int encodes = 0;
  std::vector<std::shared_ptr<FramingConnection>> framing;
  for (int i = 0; i < 5; ++i) {
    framing.push_back(std::make_shared<FramingConnection>("f" + std::to_string(i), encodes));
    f.app.connect(framing.back());
    f.app.channel(i < 3 ? "many" : "custom").join(framing.back());
  }
  f.app.publish([](const Json&, const HookContext& context) {
    return Channels{context.app.channel("many"), context.app.channel("custom").send("other")};
  });
  run_sync(f.app.create("messages", JsonObject{{"n", 1}}));
  EXPECT_EQ(encodes, 2);  // one frame for the default payload, one for send("other")
  ASSERT_EQ(framing[0]->frames.size(), 1u);
  EXPECT_EQ(*framing[0]->frames[0], R"(messages created {"n":1})");
  EXPECT_EQ(framing[0]->frames[0], framing[2]->frames[0]);  // the same shared text
  EXPECT_EQ(*framing[4]->frames[0], R"(messages created "other")");
}

}  // namespace
}  // namespace plume
