#include "core/run_sync_for_test.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plume {
namespace {

using testing::run_sync;

struct Seen {
  std::string path;
  std::string event;
  Json data;
  bool has_context;
};

// Echoes create/patch data (arrays included, as a multi create would) and emits "typing" on demand.
class Messages final : public Service {
 public:
  Task<Json> create(Json data, Params&) override { co_return data; }
  Task<Json> patch(const NullableId&, Json data, Params&) override { co_return data; }
  Task<Json> call_custom(std::string_view method, Json data, Params& params) override {
    if (method != "typing") return Service::call_custom(method, std::move(data), params);
    emit("typing", data);
    return typed();
  }

 private:
  static Task<Json> typed() { co_return nullptr; }
};

struct Fixture {
  Fixture(ServiceOptions options = {}) {
    app.use("/chat/messages/", std::make_unique<Messages>(), std::move(options));
    app.on_event([this](const ServiceEvent& event) {
      seen.push_back(
          {std::string(event.path), std::string(event.event), event.data, event.context != nullptr});
    });
  }
  App app{AppOptions{.worker_threads = 1}};
  std::vector<Seen> seen;
};

TEST(AppEvents, SuccessfulCreateEmitsCreatedWithTheResultAndContext) {
  Fixture f;
  run_sync(f.app.create("chat/messages", JsonObject{{"text", "hi"}}));
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].path, "chat/messages");
  EXPECT_EQ(f.seen[0].event, "created");
  EXPECT_EQ(f.seen[0].data, Json(JsonObject{{"text", "hi"}}));
  EXPECT_TRUE(f.seen[0].has_context);
}

TEST(AppEvents, ArrayResultEmitsOneEventPerRecord) {
  Fixture f;
  run_sync(
      f.app.patch("chat/messages", std::nullopt, JsonArray{JsonObject{{"id", 1}}, JsonObject{{"id", 2}}}));
  ASSERT_EQ(f.seen.size(), 2u);
  EXPECT_EQ(f.seen[0].event, "patched");
  EXPECT_EQ(f.seen[0].data, Json(JsonObject{{"id", 1}}));
  EXPECT_EQ(f.seen[1].data, Json(JsonObject{{"id", 2}}));
}

TEST(AppEvents, HookSettingEventToNulloptSuppressesIt) {
  Fixture f;
  f.app.service("chat/messages").hooks({.before = {{"create", {[](HookContext& context) -> Task<void> {
                                                      context.event.reset();
                                                      co_return;
                                                    }}}}});
  run_sync(f.app.create("chat/messages", JsonObject{}));
  EXPECT_TRUE(f.seen.empty());
}

TEST(AppEvents, HookMayRenameTheEvent) {
  Fixture f;
  f.app.hooks({.after = {{"create", {[](HookContext& context) -> Task<void> {
                            context.event = "posted";
                            co_return;
                          }}}}});
  run_sync(f.app.create("chat/messages", JsonObject{}));
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].event, "posted");
}

TEST(AppEvents, FailedCallEmitsNothing) {
  Fixture f;
  EXPECT_THROW(run_sync(f.app.remove("chat/messages", Id(1))), Error);
  EXPECT_TRUE(f.seen.empty());
}

TEST(AppEvents, CustomEventsComeFromServiceEmitWithoutContext) {
  Fixture f(ServiceOptions{.methods = {"create", "typing"}, .events = {"typing"}});
  run_sync(f.app.call("chat/messages", "typing", JsonObject{{"user", "ann"}}));
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].event, "typing");
  EXPECT_EQ(f.seen[0].path, "chat/messages");
  EXPECT_EQ(f.seen[0].data, Json(JsonObject{{"user", "ann"}}));
  EXPECT_FALSE(f.seen[0].has_context);
}

TEST(AppEvents, StandardEventDeclaredByTheServiceIsLeftToTheService) {
  // Feathers' eventHook does not emit events the service lists in its own `events`.
  Fixture f(ServiceOptions{.events = {"created"}});
  run_sync(f.app.create("chat/messages", JsonObject{}));
  EXPECT_TRUE(f.seen.empty());
}

TEST(AppEvents, RecoveredCallEmitsWithTheRecoveredResult) {
  Fixture f;
  f.app.service("chat/messages").hooks({.error = {{"all", {[](HookContext& context) -> Task<void> {
                                                     context.result = JsonObject{{"fallback", true}};
                                                     co_return;
                                                   }}}}});
  f.app.service("chat/messages").hooks({.before = {{"create", {[](HookContext&) -> Task<void> {
                                                      throw unavailable("down");
                                                      co_return;
                                                    }}}}});
  EXPECT_EQ(run_sync(f.app.create("chat/messages", JsonObject{})), Json(JsonObject{{"fallback", true}}));
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].data, Json(JsonObject{{"fallback", true}}));
}

TEST(AppEvents, EntryListsStandardAndCustomEvents) {
  Fixture f(ServiceOptions{.events = {"typing"}});
  EXPECT_EQ(f.app.service("chat/messages").events(),
            (std::vector<std::string>{"created", "updated", "patched", "removed", "typing"}));
}

}  // namespace
}  // namespace plume
