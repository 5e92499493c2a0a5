// Feathers-compatible access tokens: JWS compact serialisation with HMAC-SHA256 from OpenSSL,
// checked in the order jsonwebtoken's verify() checks them so that the first failing rule gives
// the same message a Feathers server would.
#include <plume/auth/jwt.hpp>

#include <plume/core/error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <optional>

namespace plume::auth {
namespace {

constexpr std::string_view kAlgorithm = "HS256";

// jsonwebtoken's error classes travel as the NotAuthenticated error's data (Feathers passes the
// jsonwebtoken error as data; its own enumerable properties remain: name, and expiredAt/date).
[[noreturn]] void fail(std::string message, std::string_view name = "JsonWebTokenError",
                       JsonObject extra = {}) {
  JsonObject data{{"name", name}};
  for (auto& [key, value] : extra) data[key] = std::move(value);
  throw not_authenticated(std::move(message), std::move(data));
}

std::string iso8601(std::int64_t seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S.000Z", &utc);
  return text.data();
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(),
           &length) == nullptr) {
    throw general_error("Could not sign the access token");
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

// A JSON object from one base64url part of the token, or nullopt.
std::optional<JsonObject> decode_object(std::string_view part) {
  std::string text;
  if (!base64url_decode(part, text)) return std::nullopt;
  try {
    Json value = parse_json(text);
    if (!value.is_object()) return std::nullopt;
    return std::move(value.get_object());
  } catch (const Error&) {
    return std::nullopt;
  }
}

struct Parts {
  std::string_view header, payload, signature, signed_part;
};

// jsonwebtoken: a token that does not split into three parts is "jwt malformed".
std::optional<Parts> split(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  return Parts{token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1),
               token.substr(0, second)};
}

std::optional<double> number(const JsonObject& object, std::string_view key) {
  const auto found = object.find(key);
  if (found == object.end()) return std::nullopt;
  if (found->value().is_int64()) return static_cast<double>(found->value().get_int64());
  if (found->value().is_uint64()) return static_cast<double>(found->value().get_uint64());
  if (found->value().is_double()) return found->value().get_double();
  return std::numeric_limits<double>::quiet_NaN();  // present but not a number
}

bool audience_matches(const Json* aud, std::string_view expected) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->get_string() == expected;
  if (aud->is_array()) {
    for (const Json& entry : aud->get_array()) {
      if (entry.is_string() && entry.get_string() == expected) return true;
    }
  }
  return false;
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(length));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  if (text.size() % 4 == 1) return false;
  std::string standard;
  standard.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-')
      standard += '+';
    else if (c == '_')
      standard += '/';
    else if (std::isalnum(static_cast<unsigned char>(c)))
      standard += c;
    else
      return false;
  }
  const std::size_t padding = (4 - standard.size() % 4) % 4;
  standard.append(padding, '=');
  out.assign(standard.size() / 4 * 3 + 1, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(standard.data()),
                                     static_cast<int>(standard.size()));
  if (length < 0) return false;
  // EVP_DecodeBlock counts the bytes the padding stands for; drop them.
  out.resize(static_cast<std::size_t>(length) - padding);
  return true;
}

std::string random_uuid() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw general_error("Could not generate a token id");
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::array<char, 37> text{};
  std::snprintf(text.data(), text.size(),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1],
                bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text.data();
}

std::string create_access_token(const JwtOptions& options, const JsonObject& payload,
                                std::string_view subject, std::int64_t now) {
  if (options.secret.empty()) throw general_error("A secret must be provided to create an access token");
  JsonObject header{{"alg", kAlgorithm}};
  for (const auto& [key, value] : options.header) {
    if (key != "alg") header[key] = value;
  }
  JsonObject claims = payload;
  claims["iat"] = now;
  claims["exp"] = now + options.expires_in.count();
  if (!options.audience.empty()) claims["aud"] = options.audience;
  if (!options.issuer.empty()) claims["iss"] = options.issuer;
  if (!subject.empty()) claims["sub"] = subject;
  claims["jti"] = random_uuid();

  std::string token = base64url_encode(to_json_text(header));
  token += '.';
  token += base64url_encode(to_json_text(claims));
  const std::string signature = hmac_sha256(options.secret, token);
  token += '.';
  token += base64url_encode(signature);
  return token;
}

JsonObject verify_access_token(const JwtOptions& options, std::string_view token, std::int64_t now) {
  const std::optional<Parts> parts = split(token);
  if (!parts) fail("jwt malformed");
  const std::optional<JsonObject> header = decode_object(parts->header);
  std::optional<JsonObject> payload = decode_object(parts->payload);
  if (!header || !payload) fail("invalid token");

  if (parts->signature.empty()) fail("jwt signature is required");
  const auto alg = header->find("alg");
  if (alg == header->end() || !alg->value().is_string() || alg->value().get_string() != kAlgorithm) {
    fail("invalid algorithm");
  }
  std::string signature;
  if (!base64url_decode(parts->signature, signature)) fail("invalid signature");
  const std::string expected = hmac_sha256(options.secret, parts->signed_part);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    fail("invalid signature");
  }

  if (const std::optional<double> nbf = number(*payload, "nbf")) {
    if (std::isnan(*nbf)) fail("invalid nbf value");
    if (*nbf > static_cast<double>(now)) {
      fail("jwt not active", "NotBeforeError", {{"date", iso8601(static_cast<std::int64_t>(*nbf))}});
    }
  }
  if (const std::optional<double> exp = number(*payload, "exp")) {
    if (std::isnan(*exp)) fail("invalid exp value");
    if (static_cast<double>(now) >= *exp) {
      fail("jwt expired", "TokenExpiredError", {{"expiredAt", iso8601(static_cast<std::int64_t>(*exp))}});
    }
  }
  if (!options.audience.empty()) {
    const auto aud = payload->find("aud");
    if (!audience_matches(aud == payload->end() ? nullptr : &aud->value(), options.audience)) {
      fail("jwt audience invalid. expected: " + options.audience);
    }
  }
  if (!options.issuer.empty()) {
    const auto iss = payload->find("iss");
    if (iss == payload->end() || !iss->value().is_string() || iss->value().get_string() != options.issuer) {
      fail("jwt issuer invalid. expected: " + options.issuer);
    }
  }
  return std::move(*payload);
}

Json decode_token_payload(std::string_view token) {
  const std::optional<Parts> parts = split(token);
  if (!parts) return nullptr;
  std::optional<JsonObject> payload = decode_object(parts->payload);
  if (!payload) return nullptr;
  return std::move(*payload);
}

}  // namespace plume::auth
