#include "core/run_sync_for_test.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace plume {
namespace {

using testing::run_sync;

// Implements get and one custom method only.
class Archive final : public Service {
 public:
  Task<Json> get(const Id& id, Params& params) override {
    co_return JsonObject{{"id", id.to_json()}, {"query", params.query}};
  }
  Task<Json> call_custom(std::string_view method, Json data, Params& params) override {
    if (method != "restore") return Service::call_custom(method, std::move(data), params);
    return restore(std::move(data));
  }
  std::vector<std::string> default_methods() const override { return {"get", "restore"}; }

 private:
  static Task<Json> restore(Json data) { co_return JsonObject{{"restored", data}}; }
};

struct Fixture {
  Fixture() { app.use("archive", std::make_unique<Archive>()); }
  App app{AppOptions{.worker_threads = 1}};
};

void expect_not_supported(Task<Json> call, const std::string& method) {
  try {
    run_sync(std::move(call));
    FAIL() << "expected MethodNotAllowed for " << method;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::MethodNotAllowed);
    EXPECT_EQ(e.status(), 405);
    EXPECT_EQ(e.message(), "Method `" + method + "` is not supported by this endpoint.");
  }
}

TEST(Service, MethodsNotImplementedAnswerMethodNotAllowedWithFeathersMessage) {
  Fixture f;
  expect_not_supported(f.app.find("archive"), "find");
  expect_not_supported(f.app.create("archive", JsonObject{}), "create");
  expect_not_supported(f.app.update("archive", Id(1), JsonObject{}), "update");
  expect_not_supported(f.app.patch("archive", Id(1), JsonObject{}), "patch");
  expect_not_supported(f.app.remove("archive", Id(1)), "remove");
  expect_not_supported(f.app.call("archive", "purge", JsonObject{}), "purge");
}

TEST(Service, ImplementedMethodsReceiveTheirArguments) {
  Fixture f;
  Params params;
  params.query = JsonObject{{"x", 1}};
  EXPECT_EQ(run_sync(f.app.get("archive", Id(7), params)),
            Json(JsonObject{{"id", 7}, {"query", JsonObject{{"x", 1}}}}));
  EXPECT_EQ(run_sync(f.app.call("archive", "restore", Json(3))), Json(JsonObject{{"restored", 3}}));
}

TEST(Service, GetWithoutIdIsBadRequest) {
  Fixture f;
  ServiceEntry& entry = f.app.service("archive");
  HookContext context{.app = f.app, .entry = entry, .service = entry.service(), .path = "", .method = "get"};
  try {
    run_sync(f.app.run(context));
    FAIL() << "expected BadRequest";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::BadRequest);
  }
  ASSERT_TRUE(context.error.has_value());
  EXPECT_EQ(context.error->code(), ErrorCode::BadRequest);
}

TEST(Service, ExposesFollowsOptionsElseDefaultMethods) {
  Fixture f;
  const ServiceEntry& defaults = f.app.service("archive");
  EXPECT_TRUE(defaults.exposes("get"));
  EXPECT_TRUE(defaults.exposes("restore"));
  EXPECT_FALSE(defaults.exposes("find"));

  f.app.use("limited", std::make_unique<Archive>(), ServiceOptions{.methods = {"get"}});
  EXPECT_TRUE(f.app.service("limited").exposes("get"));
  EXPECT_FALSE(f.app.service("limited").exposes("restore"));
}

TEST(Service, BaseDefaultMethodsAreTheSixStandardOnes) {
  class Empty final : public Service {};
  Empty empty;
  EXPECT_EQ(empty.default_methods(),
            (std::vector<std::string>{"find", "get", "create", "update", "patch", "remove"}));
  EXPECT_TRUE(is_standard_method("patch"));
  EXPECT_FALSE(is_standard_method("restore"));
}

TEST(Service, SetupRunsOnRegistrationWithAppAndStrippedPath) {
  class Recorder final : public Service {
   public:
    explicit Recorder(std::string& seen) : seen_(seen) {}
    void setup(App& app, std::string_view path) override {
      seen_ = std::string(path) + (app.find_service(path) != nullptr ? " registered" : " missing");
      EXPECT_EQ(this->path(), path);
      EXPECT_EQ(this->app(), &app);
    }

   private:
    std::string& seen_;
  };
  std::string seen;
  App app{AppOptions{.worker_threads = 1}};
  app.use("/users/:userId/notes/", std::make_unique<Recorder>(seen));
  EXPECT_EQ(seen, "users/:userId/notes registered");
}

}  // namespace
}  // namespace plume
