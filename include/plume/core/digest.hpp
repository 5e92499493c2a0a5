// Digests and the small pieces of cryptography everything else shares, all through OpenSSL:
// lower-case hex, SHA-256, HMAC-SHA256, a constant-time comparison and random identifiers.
// Keys, tokens and API keys are stored and compared as these digests, never as themselves.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plume {

// Bytes as lower-case hex.
std::string to_hex(const unsigned char* bytes, std::size_t size);
std::string to_hex(std::string_view bytes);

// The value of one hex digit (either case), or -1 (percent-decoding, parsing digests).
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// SHA-256(text) as 64 lower-case hex digits.
std::string sha256_hex(std::string_view text);

// HMAC-SHA256(secret, message) as 64 lower-case hex digits.
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);

// a == b in time that depends only on the sizes (for digests, proofs and tokens).
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

// 128 bits from the system's cryptographic random generator as 32 hex digits (instance ids,
// handshake nonces).
std::string random_hex();

}  // namespace plume
