// The `authentication` service: Feathers' AuthenticationService (packages/authentication/src/
// service.ts, core.ts) with its local and JWT strategies (authentication-local/src/strategy.ts,
// authentication/src/jwt.ts), messages and result shapes as a Feathers 5 server answers.
#include <plume/auth/authentication.hpp>

#include "auth/login_throttle.hpp"

#include <plume/core/channels.hpp>
#include <plume/core/connection.hpp>
#include <plume/core/error.hpp>

#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <map>
#include <mutex>

namespace plume::auth {
namespace {

const Json* member(const Json& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  return value.get_object().if_contains(key);
}

std::string string_member(const Json& value, std::string_view key) {
  const Json* found = member(value, key);
  return found != nullptr && found->is_string() ? std::string(found->get_string()) : std::string();
}

// `${user[entityId]}`: the token's subject is the entity id as a string.
std::string id_text(const Json& id) {
  if (id.is_string()) return std::string(id.get_string());
  if (id.is_int64()) return std::to_string(id.get_int64());
  if (id.is_uint64()) return std::to_string(id.get_uint64());
  return to_json_text(id);
}

// The remaining HookContext members keep their defaults (-Wextra would list each one).
// users.get as an external caller receives it: the reply (dispatch, else result), so that hooks
// hiding fields apply.
Task<Json> get_reply(App& app, std::string_view path, Id id, Params params) {
  HookContext context = app.context_for(app.service(path), "get", std::move(params));
  context.id = std::move(id);
  co_await app.run(context);
  co_return context.reply();
}

// Unknown users take as long as wrong passwords: a hash of the configured cost is checked either
// way, so the reply time does not tell which usernames exist.
const std::string& dummy_hash(int cost) {
  static std::mutex mutex;
  static std::map<int, std::string> hashes;
  std::lock_guard lock(mutex);
  auto& hash = hashes[cost];
  if (hash.empty()) hash = hash_password_blocking("plume-dummy-password", cost);
  return hash;
}

// The client address the transport put on params (Feathers apps' params.ip).
std::string client_address(const Params& params) {
  const auto* ip = params.extra.if_contains("ip");
  return ip != nullptr && ip->is_string() ? std::string(ip->get_string()) : std::string();
}

Error too_many_failed_logins(std::chrono::milliseconds wait) {
  const auto seconds = std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(wait).count());
  return too_many_requests("Too many failed logins; try again in " + std::to_string(seconds) + " seconds",
                           JsonObject{{"retryAfter", seconds}});
}

}  // namespace

AuthenticationService::AuthenticationService(AuthenticationOptions options)
    : options_(std::move(options)),
      hashing_(std::make_unique<PasswordHashing>(options_.hashing)),
      throttle_(std::make_unique<LoginThrottle>(options_.throttle)) {
  options_.jwt.secret = options_.secret;
}

AuthenticationService::~AuthenticationService() = default;

std::vector<std::string> AuthenticationService::default_methods() const { return {"create", "remove"}; }

App& AuthenticationService::application() const {
  if (app() == nullptr) throw general_error("The authentication service is not registered with an app");
  return *app();
}

Task<Json> AuthenticationService::create(Json data, Params& params) {
  if (options_.strategies.empty()) {
    throw not_authenticated("No authentication strategies allowed for creating a JWT (`authStrategies`)");
  }
  Json auth_result = co_await authenticate(data, params, options_.strategies);

  Json result = auth_result;
  if (member(auth_result, "accessToken") == nullptr) {
    // A new token: {accessToken, ...authResult, authentication: {...authentication, payload}}.
    std::string subject;
    if (options_.entity) {
      if (const Json* entity = member(auth_result, *options_.entity)) {
        if (const Json* id = member(*entity, options_.entity_id)) subject = id_text(*id);
      }
    }
    const std::string token = create_access_token(options_.jwt, {}, subject);
    JsonObject shaped{{"accessToken", token}};
    for (const auto& [key, value] : auth_result.get_object()) {
      if (key == "authentication") {
        JsonObject authentication = value.is_object() ? value.get_object() : JsonObject{};
        authentication["payload"] = decode_token_payload(token);
        shaped[key] = std::move(authentication);
      } else {
        shaped[key] = value;
      }
    }
    result = std::move(shaped);
  }

  if (params.connection) {
    const auto executor = co_await boost::asio::this_coro::executor;
    on_login(application(), params.connection, result, executor, options_.entity.value_or("user"));
  }
  co_return result;
}

Task<Json> AuthenticationService::remove(const NullableId& id, Params& params) {
  // With an id, it must be the access token being logged out.
  if (id) {
    const Json* token = member(params.authentication, "accessToken");
    if (token == nullptr || !token->is_string() || id->to_string() != token->get_string()) {
      throw not_authenticated("Invalid access token");
    }
  }
  Json result = co_await authenticate(params.authentication, params, options_.strategies);
  if (params.connection) on_logout(application(), params.connection, result);
  co_return result;
}

Task<Json> AuthenticationService::authenticate(const Json& authentication, const Params& params,
                                               const std::vector<std::string>& allowed) {
  const std::string strategy = string_member(authentication, "strategy");
  const bool known = strategy == "jwt" || strategy == "local";
  const bool strategy_allowed = std::find(allowed.begin(), allowed.end(), strategy) != allowed.end();
  if (!authentication.is_object() || !known || !strategy_allowed) {
    std::string message = "Invalid authentication information";
    if (strategy.empty()) {
      message += " (no `strategy` set)";
    } else if (!strategy_allowed) {
      message += " (strategy not allowed in authStrategies)";
    }
    throw not_authenticated(std::move(message));
  }
  if (strategy == "local") co_return co_await authenticate_local(authentication, params);
  co_return co_await authenticate_jwt(authentication, params);
}

Task<Json> AuthenticationService::entity_for_caller(const Json& id, Json stored, const Params& params) {
  if (!params.is_external()) co_return stored;
  Params external = params;
  external.query = JsonObject{};
  external.user = stored;
  // The caller is being authenticated by this very call: hooks such as authenticate('jwt') on
  // the entity service must let this read through.
  external.authenticated = true;
  co_return co_await get_reply(application(), options_.service, Id::from_json(id), std::move(external));
}

Task<Json> AuthenticationService::authenticate_local(const Json& data, const Params& params) {
  static constexpr std::string_view kInvalidLogin = "Invalid login";
  const LocalOptions& local = options_.local;
  const Json* password = member(data, local.password_field);
  const Json* username = member(data, local.username_field);
  // Only strings: an object such as {"$ne": null} must never reach the query as an operator.
  if (password == nullptr || !password->is_string() || password->get_string().empty() ||
      username == nullptr || !username->is_string()) {
    throw not_authenticated(std::string(kInvalidLogin));
  }
  // Only calls from outside are throttled: internal callers are the node's own code.
  const bool throttled = params.is_external();
  const std::string address = client_address(params);
  const std::string account(username->get_string());
  if (throttled) {
    if (const auto wait = throttle_->retry_after(address, account); wait.count() > 0) {
      throw too_many_failed_logins(wait);
    }
  }
  const auto failed = [&] {
    if (throttled) throttle_->record_failure(address, account);
    return not_authenticated(std::string(kInvalidLogin));
  };

  Params find;
  find.query = JsonObject{{local.username_field, *username}, {"$limit", 1}};
  PaginateOptions no_pages;
  no_pages.enabled = false;
  find.paginate = no_pages;
  find.authenticated = true;
  const Json found = co_await application().find(options_.service, std::move(find));
  const Json* list = &found;
  if (const Json* data_member = member(found, "data")) list = data_member;

  const int cost = local.hash_cost;
  if (!list->is_array() || list->get_array().empty()) {
    co_await hashing_->run([cost] { (void)verify_password_blocking("", dummy_hash(cost)); });
    throw failed();
  }
  Json entity = list->get_array().front();
  const std::string hash = string_member(entity, local.password_field);
  if (hash.empty()) throw failed();
  const bool matches = co_await hashing_->verify(std::string(password->get_string()), hash);
  if (!matches) throw failed();
  if (throttled) throttle_->record_success(account);

  JsonObject result{{"authentication", JsonObject{{"strategy", "local"}}}};
  if (options_.entity) {
    const Json* id = member(entity, options_.entity_id);
    if (id == nullptr) throw not_authenticated("Could not get local entity");
    const Json id_value = *id;
    result[*options_.entity] = co_await entity_for_caller(id_value, std::move(entity), params);
  }
  co_return result;
}

Task<Json> AuthenticationService::authenticate_jwt(const Json& data, const Params& params) {
  const std::string token = string_member(data, "accessToken");
  if (token.empty()) throw not_authenticated("No access token");
  JsonObject payload = verify_access_token(options_.jwt, token);

  JsonObject result{
      {"accessToken", token},
      {"authentication", JsonObject{{"strategy", "jwt"}, {"accessToken", token}, {"payload", payload}}}};
  if (!options_.entity) co_return result;

  const Json* sub = payload.if_contains("sub");
  if (sub == nullptr || !(sub->is_string() || sub->is_int64()))
    throw not_authenticated("Invalid access token");
  Params internal;
  internal.authenticated = true;
  Json stored = co_await application().get(options_.service, Id::from_json(*sub), std::move(internal));
  result[*options_.entity] = co_await entity_for_caller(*sub, std::move(stored), params);
  co_return result;
}

AuthenticationService& use_authentication(App& app, AuthenticationOptions options, std::string_view path) {
  auto service = std::make_unique<AuthenticationService>(std::move(options));
  AuthenticationService& ref = *service;
  // Logins and logouts are never published to real-time clients: the results carry access
  // tokens (Feathers' AuthenticationService.setup does this.publish(() => null)).
  app.use(path, std::move(service)).publish([](const Json&, const HookContext&) { return Channels{}; });
  return ref;
}

AuthenticationService* find_authentication(App& app, std::string_view path) {
  ServiceEntry* entry = app.find_service(path);
  return entry == nullptr ? nullptr : dynamic_cast<AuthenticationService*>(&entry->service());
}

}  // namespace plume::auth
