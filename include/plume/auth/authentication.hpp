// The `authentication` service and the `authenticate` hook, as @feathersjs/authentication 5
// provides them with the local (@feathersjs/authentication-local) and JWT strategies:
//
//   POST   /authentication {strategy: "local", email, password} -> 201 {accessToken,
//          authentication: {strategy, payload}, user}
//   POST   /authentication {strategy: "jwt", accessToken}       -> the same token, re-checked
//   DELETE /authentication[/<token>] with the token              -> logout, the jwt-shaped result
//
//   auth::use_authentication(app, options);
//   app.service("messages").hooks({.before = {{"all", {auth::authenticate()}}}});
//
// Passwords are bcrypt hashes (see password.hpp) checked on the service's own hashing pool, and
// failed local logins are throttled per client address (params.extra["ip"]) and per account:
// past the limit a login answers 429 TooManyRequests with data.retryAfter (seconds). Over a
// real-time connection a successful login is remembered on the connection (Connection::set_login),
// App::login runs, and the connection is closed when the token expires; logout undoes it.
#pragma once

#include <plume/auth/jwt.hpp>
#include <plume/auth/password.hpp>
#include <plume/core/app.hpp>
#include <plume/core/hooks.hpp>
#include <plume/core/service.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plume::auth {

struct LocalOptions {
  std::string username_field = "email";
  std::string password_field = "password";
  int hash_cost = default_bcrypt_cost;  // Feathers' local.hashSize
};

// A burst of `limit` failed logins, then one per window / limit (limit 0: no limit).
struct ThrottleLimit {
  std::size_t limit = 0;
  std::chrono::milliseconds window{0};
};

// `authentication.throttle`: failed local logins by client address and by account (the
// username as given). Internal calls are not throttled.
struct LoginThrottleOptions {
  bool enabled = true;
  ThrottleLimit per_address{50, std::chrono::minutes(10)};
  ThrottleLimit per_account{10, std::chrono::minutes(10)};
};

class LoginThrottle;

// Feathers' `authentication` configuration.
struct AuthenticationOptions {
  // The HMAC key, used as its UTF-8 bytes (jwt.secret is set from it).
  std::string secret;
  // The entity service and the key the entity takes in results ("user"). No entity: tokens are
  // checked but no entity is loaded.
  std::string service = "users";
  std::optional<std::string> entity = "user";
  std::string entity_id = "id";
  // Strategies allowed when creating a token (Feathers' authStrategies).
  std::vector<std::string> strategies = {"jwt", "local"};
  JwtOptions jwt;
  LocalOptions local;
  LoginThrottleOptions throttle;
  PasswordHashingOptions hashing;
};

class AuthenticationService : public Service {
 public:
  explicit AuthenticationService(AuthenticationOptions options);
  ~AuthenticationService() override;

  Task<Json> create(Json data, Params& params) override;
  Task<Json> remove(const NullableId& id, Params& params) override;
  std::vector<std::string> default_methods() const override;

  // Feathers' authService.authenticate(authentication, params, ...allowed): runs the strategy
  // named in `authentication` when it is one of `allowed`, returning {accessToken?,
  // authentication: {strategy, ...}, <entity>}. Throws NotAuthenticated ("Invalid
  // authentication information (no `strategy` set)", "... (strategy not allowed in
  // authStrategies)", "Invalid login", jsonwebtoken's messages).
  Task<Json> authenticate(const Json& authentication, const Params& params,
                          const std::vector<std::string>& allowed);

  const AuthenticationOptions& options() const noexcept { return options_; }
  // Where this service and the secret-field hooks run bcrypt.
  PasswordHashing& hashing() noexcept { return *hashing_; }

 private:
  Task<Json> authenticate_local(const Json& data, const Params& params);
  Task<Json> authenticate_jwt(const Json& data, const Params& params);
  // The entity as the caller may see it: as stored for internal calls, else fetched again with
  // the caller's provider so that the entity service's hooks (hidden secret fields) apply.
  Task<Json> entity_for_caller(const Json& id, Json stored, const Params& params);
  App& application() const;

  AuthenticationOptions options_;
  std::unique_ptr<PasswordHashing> hashing_;
  std::unique_ptr<LoginThrottle> throttle_;
};

// Registers an AuthenticationService at `path` and returns it.
AuthenticationService& use_authentication(App& app, AuthenticationOptions options,
                                          std::string_view path = "authentication");
// The AuthenticationService registered at `path`, or null.
AuthenticationService* find_authentication(App& app, std::string_view path = "authentication");

// Feathers' authenticate(...strategies) hook, used as a before hook: a call already marked
// authenticated passes; a call carrying params.authentication is authenticated with one of
// `strategies` (params.user, params.authentication and params.authenticated are set); an
// external call without it fails with 401 "Not authenticated"; internal calls pass.
Hook authenticate(std::vector<std::string> strategies = {"jwt"}, std::string service_path = "authentication");

// What a real-time transport does when a connection authenticates outside the service (an
// Authorization header at the handshake) and what the service does on login: remember
// {strategy: jwt, accessToken} and the entity on the connection, run App::login, and close the
// connection when the token's exp passes (timer on `executor`, the connection's I/O executor).
void on_login(App& app, const std::shared_ptr<Connection>& connection, const Json& auth_result,
              const boost::asio::any_io_executor& executor, std::string_view entity = "user");
// A real-time handshake that carries `Authorization: Bearer <jwt>` (or a bare token, or the JWT
// scheme) logs the connection in with the jwt strategy, as Feathers' socket.io middleware does;
// a bad token throws NotAuthenticated (the transport refuses the client with it). Without the
// header, or without an authentication service, the connection stays anonymous.
Task<void> authenticate_handshake(App& app, std::shared_ptr<Connection> connection);

// On logout: forget the login if it is this token's, then App::logout.
void on_logout(App& app, const std::shared_ptr<Connection>& connection, const Json& auth_result);

}  // namespace plume::auth
