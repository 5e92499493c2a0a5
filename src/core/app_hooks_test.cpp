#include "core/run_sync_for_test.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace plume {
namespace {

using testing::run_sync;
using Trace = std::vector<std::string>;

// A service whose create records itself in the trace and either echoes the data or fails.
class TracedService final : public Service {
 public:
  enum class Failure { None, Plume, Runtime };

  TracedService(Trace& trace, Failure failure = Failure::None) : trace_(trace), failure_(failure) {}

  Task<Json> create(Json data, Params&) override {
    trace_.push_back("METHOD");
    ++calls;
    if (failure_ == Failure::Plume) throw unprocessable("text is required");
    if (failure_ == Failure::Runtime) throw std::runtime_error("disk full");
    co_return data;
  }

  Task<Json> find(Params&) override {
    trace_.push_back("METHOD");
    ++calls;
    co_return JsonArray{};
  }

  int calls = 0;

 private:
  Trace& trace_;
  Failure failure_;
};

Hook record(Trace& trace, std::string label, HookType type) {
  return [&trace, label, type](HookContext& context) -> Task<void> {
    EXPECT_EQ(context.type, type) << label;
    trace.push_back(label);
    co_return;
  };
}

AroundHook record_around(Trace& trace, std::string label) {
  return [&trace, label](HookContext& context, const Next& next) -> Task<void> {
    EXPECT_EQ(context.type, HookType::Around) << label;
    trace.push_back(label + " in");
    co_await next();
    trace.push_back(label + " out");
  };
}

// Every kind of hook, for "all" and for "create", labelled "<level> <kind> <method>".
Hooks every_hook(Trace& trace, const std::string& level) {
  Hooks hooks;
  for (const std::string method : {"all", "create"}) {
    hooks.around[method].push_back(record_around(trace, level + " around " + method));
    hooks.before[method].push_back(record(trace, level + " before " + method, HookType::Before));
    hooks.after[method].push_back(record(trace, level + " after " + method, HookType::After));
    hooks.error[method].push_back(record(trace, level + " error " + method, HookType::Error));
  }
  return hooks;
}

struct Fixture {
  explicit Fixture(TracedService::Failure failure = TracedService::Failure::None) {
    auto owned = std::make_unique<TracedService>(trace, failure);
    service = owned.get();
    app.use("messages", std::move(owned));
    app.on_event([this](const ServiceEvent& event) { trace.push_back("EVENT " + std::string(event.event)); });
  }

  Trace trace;
  App app{AppOptions{.worker_threads = 1}};
  TracedService* service = nullptr;
};

TEST(AppHooks, SuccessRunsHooksInFeathersOrder) {
  Fixture f;
  f.app.hooks(every_hook(f.trace, "app"));
  f.app.service("messages").hooks(every_hook(f.trace, "svc"));

  const Json result = run_sync(f.app.create("messages", JsonObject{{"text", "hi"}}));

  EXPECT_EQ(result, Json(JsonObject{{"text", "hi"}}));
  const Trace expected{"app around all in",     "app around create in", "app before all",
                       "app before create",     "svc around all in",    "svc around create in",
                       "svc before all",        "svc before create",    "METHOD",
                       "svc after all",         "svc after create",     "svc around create out",
                       "svc around all out",    "app after all",        "app after create",
                       "app around create out", "app around all out",   "EVENT created"};
  EXPECT_EQ(f.trace, expected);
}

TEST(AppHooks, MethodErrorRunsErrorHooksInnermostFirstAndRejects) {
  Fixture f(TracedService::Failure::Plume);
  f.app.hooks(every_hook(f.trace, "app"));
  f.app.service("messages").hooks(every_hook(f.trace, "svc"));

  try {
    run_sync(f.app.create("messages", JsonObject{}));
    FAIL() << "expected the call to fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Unprocessable);
    EXPECT_EQ(e.message(), "text is required");
  }
  const Trace expected{"app around all in", "app around create in", "app before all",
                       "app before create", "svc around all in",    "svc around create in",
                       "svc before all",    "svc before create",    "METHOD",
                       "svc error create",  "svc error all",        "app error create",
                       "app error all"};
  EXPECT_EQ(f.trace, expected);
}

TEST(AppHooks, ErrorInBeforeAllSkipsTheMethodsOwnErrorHooks) {
  // Feathers nests "error <m>" inside "before all", so an error thrown by a before-all hook only
  // reaches the "error all" hooks.
  Fixture f;
  Hooks hooks;
  hooks.before["all"].push_back([](HookContext&) -> Task<void> {
    throw forbidden("no");
    co_return;
  });
  hooks.error["create"].push_back(record(f.trace, "svc error create", HookType::Error));
  hooks.error["all"].push_back(record(f.trace, "svc error all", HookType::Error));
  f.app.service("messages").hooks(hooks);

  EXPECT_THROW(run_sync(f.app.create("messages", JsonObject{})), Error);
  EXPECT_EQ(f.trace, (Trace{"svc error all"}));
  EXPECT_EQ(f.service->calls, 0);
}

TEST(AppHooks, ErrorInAfterHookReachesErrorHooksAndSuppressesEvent) {
  Fixture f;
  Hooks hooks;
  hooks.after["create"].push_back([](HookContext&) -> Task<void> {
    throw conflict("late");
    co_return;
  });
  hooks.error["create"].push_back(record(f.trace, "svc error create", HookType::Error));
  f.app.service("messages").hooks(hooks);

  EXPECT_THROW(run_sync(f.app.create("messages", JsonObject{})), Error);
  EXPECT_EQ(f.trace, (Trace{"METHOD", "svc error create"}));
}

TEST(AppHooks, ErrorHookSeesNonPlumeErrorsAsGeneralError) {
  Fixture f(TracedService::Failure::Runtime);
  std::optional<Error> seen;
  f.app.service("messages").hooks({.error = {{"all", {[&](HookContext& context) -> Task<void> {
                                                seen = context.error;
                                                co_return;
                                              }}}}});
  try {
    run_sync(f.app.create("messages", JsonObject{}));
    FAIL() << "expected the call to fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::GeneralError);
    EXPECT_EQ(e.message(), "disk full");
  }
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->code(), ErrorCode::GeneralError);
  EXPECT_EQ(seen->message(), "disk full");
}

TEST(AppHooks, BeforeHookSettingResultSkipsMethodButLaterHooksRun) {
  Fixture f;
  Hooks hooks;
  hooks.before["create"].push_back([](HookContext& context) -> Task<void> {
    context.result = JsonObject{{"cached", true}};
    co_return;
  });
  hooks.before["create"].push_back(record(f.trace, "later before", HookType::Before));
  hooks.after["create"].push_back(record(f.trace, "after", HookType::After));
  f.app.service("messages").hooks(hooks);

  const Json result = run_sync(f.app.create("messages", JsonObject{}));

  EXPECT_EQ(result, Json(JsonObject{{"cached", true}}));
  EXPECT_EQ(f.service->calls, 0);
  EXPECT_EQ(f.trace, (Trace{"later before", "after", "EVENT created"}));
}

TEST(AppHooks, AroundHookSettingResultBeforeNextSkipsMethod) {
  Fixture f;
  f.app.hooks({.around = {{"all", {[](HookContext& context, const Next& next) -> Task<void> {
                             context.result = Json("short-circuit");
                             co_await next();
                           }}}}});
  EXPECT_EQ(run_sync(f.app.create("messages", JsonObject{})), Json("short-circuit"));
  EXPECT_EQ(f.service->calls, 0);
}

TEST(AppHooks, AroundHookThatNeverCallsNextSkipsEverythingInside) {
  Fixture f;
  f.app.hooks({.around = {{"create", {[](HookContext& context, const Next&) -> Task<void> {
                             context.result = Json(1);
                             co_return;
                           }}}}});
  f.app.service("messages").hooks(every_hook(f.trace, "svc"));
  EXPECT_EQ(run_sync(f.app.create("messages", JsonObject{})), Json(1));
  EXPECT_EQ(f.trace, (Trace{"EVENT created"}));
}

TEST(AppHooks, ErrorHookSettingResultRecoversAndOuterErrorHooksDoNotRun) {
  Fixture f(TracedService::Failure::Plume);
  f.app.service("messages")
      .hooks({.error = {{"create", {[&](HookContext& context) -> Task<void> {
                           f.trace.push_back("svc error create");
                           context.result = JsonObject{{"recovered", true}};
                           co_return;
                         }}},
                        {"all", {record(f.trace, "svc error all", HookType::Error)}}}});
  f.app.hooks({.after = {{"create", {record(f.trace, "app after create", HookType::After)}}},
               .error = {{"all", {record(f.trace, "app error all", HookType::Error)}}}});

  const Json result = run_sync(f.app.create("messages", JsonObject{}));

  EXPECT_EQ(result, Json(JsonObject{{"recovered", true}}));
  // The app's after hooks wrap the service's hooks, so they see the recovered call.
  EXPECT_EQ(f.trace, (Trace{"METHOD", "svc error create", "app after create", "EVENT created"}));
}

TEST(AppHooks, ErrorHookMayReplaceTheError) {
  Fixture f(TracedService::Failure::Runtime);
  f.app.service("messages").hooks({.error = {{"all", {[](HookContext& context) -> Task<void> {
                                                context.error = forbidden("hidden");
                                                co_return;
                                              }}}}});
  std::optional<Error> seen_by_app;
  f.app.hooks({.error = {{"all", {[&](HookContext& context) -> Task<void> {
                            seen_by_app = context.error;
                            co_return;
                          }}}}});
  try {
    run_sync(f.app.create("messages", JsonObject{}));
    FAIL() << "expected the call to fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Forbidden);
    EXPECT_EQ(e.message(), "hidden");
  }
  ASSERT_TRUE(seen_by_app.has_value());
  EXPECT_EQ(seen_by_app->code(), ErrorCode::Forbidden);
}

TEST(AppHooks, AllHooksApplyToEveryMethodAndMethodHooksOnlyToTheirs) {
  Fixture f;
  f.app.service("messages")
      .hooks({.before = {{"all", {record(f.trace, "before all", HookType::Before)}},
                         {"create", {record(f.trace, "before create", HookType::Before)}}}});
  run_sync(f.app.find("messages"));
  EXPECT_EQ(f.trace, (Trace{"before all", "METHOD"}));
}

TEST(AppHooks, RegisteringHooksTwiceAppendsInOrder) {
  Fixture f;
  f.app.service("messages").hooks({.before = {{"create", {record(f.trace, "first", HookType::Before)}}}});
  f.app.service("messages").hooks({.before = {{"create", {record(f.trace, "second", HookType::Before)}}}});
  run_sync(f.app.create("messages", JsonObject{}));
  EXPECT_EQ(f.trace, (Trace{"first", "second", "METHOD", "EVENT created"}));
}

TEST(AppHooks, HooksCanChangeDataAndParamsSeenByTheMethod) {
  Fixture f;
  f.app.service("messages").hooks({.before = {{"create", {[](HookContext& context) -> Task<void> {
                                                 context.data.as_object()["stamped"] = true;
                                                 co_return;
                                               }}}}});
  EXPECT_EQ(run_sync(f.app.create("messages", JsonObject{{"text", "a"}})),
            Json(JsonObject{{"text", "a"}, {"stamped", true}}));
}

TEST(AppHooks, ReplyIsDispatchWhenSetElseResult) {
  Fixture f;
  f.app.service("messages").hooks({.after = {{"create", {[](HookContext& context) -> Task<void> {
                                                context.dispatch = JsonObject{{"safe", true}};
                                                co_return;
                                              }}}}});
  ServiceEntry& entry = f.app.service("messages");
  HookContext context{
      .app = f.app, .entry = entry, .service = entry.service(), .path = "", .method = "create"};
  context.data = JsonObject{{"secret", 1}};
  run_sync(f.app.run(context));
  EXPECT_EQ(context.reply(), Json(JsonObject{{"safe", true}}));
  EXPECT_EQ(*context.result, Json(JsonObject{{"secret", 1}}));
  EXPECT_EQ(context.path, "messages");

  HookContext bare{.app = f.app, .entry = entry, .service = entry.service(), .path = "", .method = "find"};
  EXPECT_TRUE(bare.reply().is_null());
}

}  // namespace
}  // namespace plume
