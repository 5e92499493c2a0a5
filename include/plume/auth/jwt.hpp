// Access tokens as Feathers issues and checks them (@feathersjs/authentication with
// jsonwebtoken): HS256 only, header {"alg":"HS256","typ":"access"}, claims iat, exp, aud, iss,
// sub (the entity id as a string) and jti (a UUID v4), the secret's UTF-8 bytes as the HMAC key.
// Verification fails with NotAuthenticated carrying jsonwebtoken's message and, as data, the
// jsonwebtoken error's name ({"name": "JsonWebTokenError"}), in jsonwebtoken's order of checks.
//
// The HMAC is OpenSSL's. libjwt is not used for these tokens: the 1.10 release shipped here
// rewrites the "typ" header to "JWT" when signing and refuses any other "typ" when decoding, so
// it can neither issue nor accept Feathers' "typ":"access" tokens.
#pragma once

#include <plume/core/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace plume::auth {

struct JwtOptions {
  std::string secret;
  // Extra header members after "alg" (Feathers' jwtOptions.header).
  JsonObject header = {{"typ", "access"}};
  std::string audience = "https://yourdomain.com";
  std::string issuer = "feathers";
  std::chrono::seconds expires_in{86'400};  // "1d"
};

// Seconds since the epoch, as jsonwebtoken counts them (Math.floor(Date.now() / 1000)).
std::int64_t unix_now();

// A signed token: `payload`'s members, then iat = now, exp = now + expires_in, aud, iss, sub
// (omitted when empty) and a fresh jti, in jsonwebtoken's claim order.
std::string create_access_token(const JwtOptions& options, const JsonObject& payload,
                                std::string_view subject, std::int64_t now = unix_now());

// The verified payload. Throws NotAuthenticated: "jwt malformed", "invalid token",
// "jwt signature is required", "invalid algorithm" (anything but HS256, "none" included),
// "invalid signature", "jwt not active", "invalid exp value", "jwt expired" (data
// {name: TokenExpiredError, expiredAt}), "jwt audience invalid. expected: <aud>",
// "jwt issuer invalid. expected: <iss>".
JsonObject verify_access_token(const JwtOptions& options, std::string_view token,
                               std::int64_t now = unix_now());

// The payload without any check (jsonwebtoken's decode), or null when it cannot be read.
Json decode_token_payload(std::string_view token);

// A random UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") from OpenSSL's generator.
std::string random_uuid();

// base64url without padding (RFC 7515 section 2), and its inverse; decoding returns false on
// characters outside the alphabet or an impossible length.
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace plume::auth
