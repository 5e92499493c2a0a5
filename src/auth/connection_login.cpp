// A real-time connection's login state, as Feathers' JWT strategy keeps it (authentication/src/
// jwt.ts handleConnection): on login the connection remembers {strategy: "jwt", accessToken} and
// the entity, and is disconnected when the token expires; on logout of that token it forgets them.
#include <plume/auth/authentication.hpp>

#include <plume/core/channels.hpp>
#include <plume/core/connection.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <cctype>
#include <chrono>

namespace plume::auth {
namespace {

std::string access_token_of(const Json& value) {
  if (!value.is_object()) return {};
  const Json* token = value.get_object().if_contains("accessToken");
  return token != nullptr && token->is_string() ? std::string(token->get_string()) : std::string();
}

// exp from the result's payload, else from the token itself.
std::optional<std::int64_t> expiry_of(const Json& auth_result, const std::string& token) {
  Json payload = nullptr;
  if (const Json* authentication = auth_result.as_object().if_contains("authentication")) {
    if (const Json* found =
            authentication->is_object() ? authentication->get_object().if_contains("payload") : nullptr) {
      payload = *found;
    }
  }
  if (!payload.is_object()) payload = decode_token_payload(token);
  if (!payload.is_object()) return std::nullopt;
  const Json* exp = payload.get_object().if_contains("exp");
  if (exp == nullptr || !exp->is_number()) return std::nullopt;
  return static_cast<std::int64_t>(exp->to_number<double>());
}

void schedule_expiry(const std::shared_ptr<Connection>& connection, const std::string& token,
                     std::int64_t exp, const boost::asio::any_io_executor& executor) {
  const std::int64_t seconds_left = exp - unix_now();
  auto timer = std::make_shared<boost::asio::steady_timer>(
      executor, std::chrono::seconds(std::max<std::int64_t>(0, seconds_left)));
  std::weak_ptr<Connection> weak = connection;
  // The handler owns the timer. It closes the connection only if it is still logged in with this
  // token: a logout, or a login with another token, leaves it open.
  timer->async_wait([timer, weak, token](const boost::system::error_code& error) {
    if (error) return;
    const std::shared_ptr<Connection> alive = weak.lock();
    if (!alive) return;
    if (access_token_of(alive->authentication()) == token) alive->close("access token expired");
  });
}

// Feathers' JWT strategy parse(): "<scheme> <token>" with scheme Bearer or JWT (any case), or
// a bare token.
std::string token_from_header(std::string_view header) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  while (!header.empty() && !not_space(header.front())) header.remove_prefix(1);
  while (!header.empty() && !not_space(header.back())) header.remove_suffix(1);
  const std::size_t gap = header.find_first_of(" \t");
  if (gap == std::string_view::npos) return std::string(header);
  std::string scheme(header.substr(0, gap));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer" && scheme != "jwt") return {};
  std::string_view token = header.substr(gap);
  while (!token.empty() && !not_space(token.front())) token.remove_prefix(1);
  return std::string(token);
}

}  // namespace

Task<void> authenticate_handshake(App& app, std::shared_ptr<Connection> connection) {
  AuthenticationService* service = find_authentication(app);
  if (service == nullptr || !connection) co_return;
  const Json* header = connection->headers().if_contains("authorization");
  if (header == nullptr || !header->is_string()) co_return;
  const std::string token = token_from_header(header->get_string());
  if (token.empty()) co_return;

  Params params;
  params.provider = connection->provider();
  params.headers = connection->headers();
  const Json authentication = JsonObject{{"strategy", "jwt"}, {"accessToken", token}};
  const std::vector<std::string> allowed{"jwt"};
  // Built, then awaited: GCC 12 may destroy temporaries of a co_await expression twice.
  auto verify = service->authenticate(authentication, params, allowed);
  Json result = co_await std::move(verify);
  const auto executor = co_await boost::asio::this_coro::executor;
  on_login(app, connection, result, executor, service->options().entity.value_or("user"));
}

void on_login(App& app, const std::shared_ptr<Connection>& connection, const Json& auth_result,
              const boost::asio::any_io_executor& executor, std::string_view entity) {
  if (!connection || !auth_result.is_object()) return;
  const std::string token = access_token_of(auth_result);
  if (token.empty()) return;
  const Json* user = auth_result.get_object().if_contains(entity);
  connection->set_login(JsonObject{{"strategy", "jwt"}, {"accessToken", token}},
                        user ? *user : Json(nullptr));
  if (const std::optional<std::int64_t> exp = expiry_of(auth_result, token)) {
    schedule_expiry(connection, token, *exp, executor);
  }
  app.login(connection, auth_result);
}

void on_logout(App& app, const std::shared_ptr<Connection>& connection, const Json& auth_result) {
  if (!connection) return;
  const std::string token = access_token_of(auth_result);
  if (!token.empty() && access_token_of(connection->authentication()) == token) connection->clear_login();
  app.logout(connection, auth_result);
}

}  // namespace plume::auth
