// Authentication across the mesh: distributed mode (the owner verifies the forwarded
// authentication again with the shared secret) and gateway mode (mesh.remoteAuth: jwt, the
// proxies authenticate external calls at the edge).
#include "mesh/mesh_test_support.hpp"
#include "mesh/remote_service.hpp"

#include <plume/auth/authentication.hpp>
#include <plume/auth/jwt.hpp>

#include <gtest/gtest.h>

namespace plume::mesh {
namespace {

using namespace testing;

constexpr const char* kAuthSecret = "shared-authentication-secret";

void use_jwt_authentication(App& app) {
  auth::AuthenticationOptions options;
  options.secret = kAuthSecret;
  options.jwt.secret = kAuthSecret;
  options.entity = std::nullopt;
  options.strategies = {"jwt"};
  auth::use_authentication(app, options);
}

std::string valid_token() {
  auth::JwtOptions options;
  options.secret = kAuthSecret;
  return auth::create_access_token(options, {}, "7");
}

Params external_with(std::string token) {
  Params params;
  params.provider = "rest";
  if (!token.empty()) {
    params.authentication = JsonObject{{"strategy", "jwt"}, {"accessToken", token}};
    params.headers["authorization"] = "Bearer " + token;
  }
  return params;
}

bool has_proxy(App& app, std::string_view path) {
  auto entry = app.find_shared(path);
  return entry && dynamic_cast<RemoteService*>(&entry->service()) != nullptr;
}

TEST(MeshAuth, OwnerVerifiesTheForwardedAuthenticationAgain) {
  TestNode owner(fast_options("owner"), [](App& app) {
    use_jwt_authentication(app);
    auto items = std::make_unique<Items>("owner");
    items->put(1, JsonObject{{"name", "one"}});
    app.use("items", std::move(items)).hooks({.before = {{"all", {auth::authenticate()}}}});
  });
  owner.start();
  MeshOptions options = fast_options("gateway", {owner.url()});
  options.consume = {"items"};
  TestNode gateway(options);
  gateway.start();
  ASSERT_TRUE(wait_until([&] { return has_proxy(gateway.app, "items"); }));

  EXPECT_EQ(run(gateway.app.get("items", Id(1), external_with(valid_token()))).at("name"), "one");
  const Error missing = error_of(gateway.app.get("items", Id(1), external_with("")));
  EXPECT_EQ(missing.code(), ErrorCode::NotAuthenticated);
  const Error forged = error_of(gateway.app.get("items", Id(1), external_with(valid_token() + "x")));
  EXPECT_EQ(forged.code(), ErrorCode::NotAuthenticated);
  EXPECT_EQ(forged.message(), "invalid signature");
  // An internal call on the gateway stays internal on the owner.
  EXPECT_EQ(run(gateway.app.get("items", Id(1))).at("name"), "one");
}

TEST(MeshAuth, GatewayModeAuthenticatesExternalCallsBeforeTheyLeave) {
  Items* items = nullptr;
  TestNode owner(fast_options("owner"), [&](App& app) {
    auto service = std::make_unique<Items>("owner");
    service->put(1, JsonObject{{"name", "one"}});
    items = service.get();
    app.use("items", std::move(service));
  });
  owner.start();
  MeshOptions options = fast_options("gateway", {owner.url()});
  options.remote_auth = "jwt";
  TestNode gateway(options, use_jwt_authentication);
  gateway.start();
  ASSERT_TRUE(wait_until([&] { return has_proxy(gateway.app, "items"); }));

  const int gets_before = items->gets;
  EXPECT_EQ(error_of(gateway.app.get("items", Id(1), external_with(""))).code(), ErrorCode::NotAuthenticated);
  EXPECT_EQ(items->gets.load(), gets_before);  // refused at the edge
  EXPECT_EQ(run(gateway.app.get("items", Id(1), external_with(valid_token()))).at("name"), "one");
  EXPECT_EQ(items->gets.load(), gets_before + 1);
}

}  // namespace
}  // namespace plume::mesh
