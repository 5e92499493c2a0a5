#include <plume/auth/owner_rules.hpp>

#include "core/run_sync_for_test.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <gtest/gtest.h>

namespace plume::auth {
namespace {

using plume::testing::run_sync;

// Answers with what the method received, so a test sees the query and data the hooks left.
class Recorder final : public Service {
 public:
  Task<Json> find(Params& params) override { co_return JsonObject{{"query", params.query}}; }
  Task<Json> get(const Id& id, Params& params) override { co_return JsonObject{{"query", params.query}}; }
  Task<Json> create(Json data, Params& params) override { co_return data; }
  Task<Json> patch(const NullableId& id, Json data, Params& params) override {
    co_return JsonObject{{"query", params.query}, {"data", data}};
  }
};

Params external(Json user) {
  Params params;
  params.provider = "rest";
  params.user = std::move(user);
  return params;
}

const Json kAlice = JsonObject{{"id", 1}, {"email", "alice@example.com"}};
const Json kAdmin = JsonObject{{"id", 9}, {"email", "admin@example.com"}, {"roles", JsonArray{"admin"}}};

void serve(App& app, OwnerRule rule) {
  app.use("records", std::make_unique<Recorder>()).hooks(owner_hooks(std::move(rule)));
}

OwnerRule messages_rule() {
  return OwnerRule{.field = "userId", .exempt = {"admin"}, .stamp = {{"author", "email"}}};
}

TEST(OwnerRules, CreateStampsTheOwnerAndStampedFieldsOverTheClientsValues) {
  App app;
  serve(app, messages_rule());
  const Json one = run_sync(
      app.create("records", JsonObject{{"text", "hi"}, {"userId", 2}, {"author", "x"}}, external(kAlice)));
  EXPECT_EQ(one, parse_json(R"({"text":"hi","userId":1,"author":"alice@example.com"})"));
  const Json many =
      run_sync(app.create("records", JsonArray{JsonObject{{"userId", 2}}, JsonObject{}}, external(kAlice)));
  EXPECT_EQ(
      many,
      parse_json(R"([{"userId":1,"author":"alice@example.com"},{"userId":1,"author":"alice@example.com"}])"));
}

TEST(OwnerRules, QueriesGetTheOwnerFilterOverWhatTheCallerAsked) {
  App app;
  serve(app, messages_rule());
  Params params = external(kAlice);
  params.query = JsonObject{{"userId", JsonObject{{"$ne", 1}}}, {"text", "hi"}};
  EXPECT_EQ(run_sync(app.find("records", params)).at("query"), parse_json(R"({"userId":1,"text":"hi"})"));
  EXPECT_EQ(run_sync(app.get("records", Id(5), external(kAlice))).at("query"), parse_json(R"({"userId":1})"));
  const Json patched = run_sync(app.patch("records", Id(5), JsonObject{{"userId", 2}}, external(kAlice)));
  EXPECT_EQ(patched.at("data").at("userId"), Json(1));
}

TEST(OwnerRules, ExemptUsersAndInternalCallsAreNotRestricted) {
  App app;
  serve(app, messages_rule());
  EXPECT_EQ(run_sync(app.find("records", external(kAdmin))).at("query"), Json(JsonObject{}));
  EXPECT_EQ(run_sync(app.create("records", JsonObject{{"userId", 2}}, external(kAdmin))).at("userId"),
            Json(2));
  EXPECT_EQ(run_sync(app.create("records", JsonObject{}, external(kAdmin))).at("userId"), Json(9));
  EXPECT_EQ(run_sync(app.find("records")).at("query"), Json(JsonObject{}));
}

TEST(OwnerRules, AnExternalCallWithoutAUserIsNotAuthenticated) {
  App app;
  serve(app, messages_rule());
  try {
    run_sync(app.find("records", external(nullptr)));
    FAIL() << "expected NotAuthenticated";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotAuthenticated);
  }
}

TEST(OwnerRules, SelfFiltersByTheRecordIdAndGuardsRoles) {
  App app;
  serve(app, OwnerRule{.self = true, .exempt = {"admin"}});
  EXPECT_EQ(run_sync(app.find("records", external(kAlice))).at("query"), parse_json(R"({"id":1})"));
  // A sign-up passes without a user, but not with a role.
  EXPECT_NO_THROW(
      run_sync(app.create("records", JsonObject{{"email", "new@example.com"}}, external(nullptr))));
  try {
    run_sync(app.create("records", JsonObject{{"role", "admin"}}, external(nullptr)));
    FAIL() << "expected Forbidden";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::Forbidden);
    EXPECT_EQ(error.message(), "Only an exempt user may set 'role'");
  }
  EXPECT_NO_THROW(
      run_sync(app.patch("records", Id(3), JsonObject{{"roles", JsonArray{"admin"}}}, external(kAdmin))));
}

TEST(OwnerRules, RolesComeFromARolesArrayOrARoleString) {
  EXPECT_TRUE(has_role(kAdmin, {"admin"}));
  EXPECT_TRUE(has_role(parse_json(R"({"role":"admin"})"), {"editor", "admin"}));
  EXPECT_FALSE(has_role(kAlice, {"admin"}));
  EXPECT_FALSE(has_role(parse_json(R"({"roles":"admin"})"), {"admin"}));
  EXPECT_FALSE(has_role(kAdmin, {}));
}

}  // namespace
}  // namespace plume::auth
