#include "gateway/gateway_auth.hpp"

#include <plume/core/digest.hpp>
#include <plume/core/error.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include <array>

namespace plume::gateway {
namespace http = net::http;

std::string hash_api_key(std::string_view key) { return sha256_hex(key); }

namespace {

Identity from_jwt(const Gateway::State& state, const http::fields& request) {
  if (!state.jwt) throw not_authenticated("JWT authentication is not configured on this gateway");
  std::string_view header = request[http::field::authorization];
  if (header.empty()) throw not_authenticated("No access token: send Authorization: Bearer <accessToken>");
  // Feathers takes "Bearer <token>" and a bare token alike.
  std::string_view token = header;
  if (token.size() > 7 && boost::beast::iequals(token.substr(0, 7), "bearer ")) token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  JsonObject payload = auth::verify_access_token(*state.jwt, token);
  Identity identity;
  if (auto sub = payload.if_contains("sub"); sub && sub->is_string())
    identity.consumer = std::string(sub->get_string());
  if (!identity.consumer.empty()) identity.headers.emplace_back("X-Consumer-ID", identity.consumer);
  if (auto jti = payload.if_contains("jti"); jti && jti->is_string()) {
    identity.headers.emplace_back("X-Credential-Identifier", std::string(jti->get_string()));
  }
  return identity;
}

std::string key_from_query(std::string_view target, std::string_view name) {
  auto question = target.find('?');
  if (question == std::string_view::npos) return {};
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return {};
  for (auto param : parsed->params()) {
    if (param.key == name && param.has_value) return std::string(param.value);
  }
  return {};
}

Identity from_apikey(const Gateway::State& state, const http::fields& request, std::string_view target) {
  std::string key(request[state.options.apikey_header]);
  if (key.empty()) key = key_from_query(target, state.options.apikey_query);
  if (key.empty()) {
    throw not_authenticated("No API key: send it in the " + state.options.apikey_header + " header or the " +
                            state.options.apikey_query + " query parameter");
  }
  const std::string digest = hash_api_key(key);
  auto found = state.apikeys.find(digest);
  if (found == state.apikeys.end()) throw not_authenticated("Invalid API key");
  Identity identity;
  identity.consumer = found->second;
  identity.headers = {{"X-Consumer-ID", found->second},
                      {"X-Consumer-Username", found->second},
                      {"X-Credential-Identifier", digest.substr(0, 12)}};
  return identity;
}

}  // namespace

Identity authenticate(const Gateway::State& state, const CompiledRoute& route, const http::fields& request,
                      std::string_view target) {
  switch (route.options.auth) {
    case AuthMode::None:
      return {};
    case AuthMode::Jwt:
      return from_jwt(state, request);
    case AuthMode::ApiKey:
      return from_apikey(state, request, target);
  }
  return {};
}

}  // namespace plume::gateway
