#include "mesh/announcement.hpp"

#include <plume/core/json.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace plume::mesh {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    hex[2 * i] = kDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return hex;
}

namespace {

// The signed part: every field in a fixed order, so both sides hash the same bytes whatever
// order the JSON object had on the wire.
std::string signed_text(const Announcement& a) {
  return std::to_string(a.version) + '\n' + a.node + '\n' + a.instance + '\n' + a.address + '\n' +
         std::to_string(a.seq) + '\n' + (a.goodbye ? "1" : "0");
}

}  // namespace

std::string hmac_hex(std::string_view secret, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
           &size) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return to_hex(digest.data(), size);
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_hex() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("the system random generator failed");
  }
  return to_hex(bytes.data(), bytes.size());
}

std::string encode_announcement(const Announcement& announcement, std::string_view secret) {
  JsonObject object{{"v", announcement.version},
                    {"node", announcement.node},
                    {"instance", announcement.instance},
                    {"address", announcement.address},
                    {"seq", announcement.seq},
                    {"bye", announcement.goodbye},
                    {"mac", hmac_hex(secret, signed_text(announcement))}};
  return to_json_text(Json(std::move(object)));
}

std::optional<Announcement> decode_announcement(std::string_view packet, std::string_view secret) {
  Json parsed;
  try {
    parsed = parse_json(packet);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const JsonObject* object = parsed.if_object();
  if (object == nullptr) return std::nullopt;
  auto text = [&](std::string_view key) -> const boost::json::string* {
    const Json* value = object->if_contains(key);
    return value != nullptr ? value->if_string() : nullptr;
  };
  const Json* version = object->if_contains("v");
  const Json* seq = object->if_contains("seq");
  const Json* bye = object->if_contains("bye");
  const boost::json::string* node = text("node");
  const boost::json::string* instance = text("instance");
  const boost::json::string* address = text("address");
  const boost::json::string* mac = text("mac");
  if (version == nullptr || !version->is_int64() || seq == nullptr ||
      !(seq->is_uint64() || seq->is_int64()) || bye == nullptr || !bye->is_bool() || node == nullptr ||
      instance == nullptr || address == nullptr || mac == nullptr) {
    return std::nullopt;
  }
  Announcement announcement;
  announcement.version = static_cast<int>(version->get_int64());
  if (announcement.version != kProtocolVersion) return std::nullopt;
  announcement.node = std::string(*node);
  announcement.instance = std::string(*instance);
  announcement.address = std::string(*address);
  announcement.seq = seq->is_uint64() ? seq->get_uint64() : static_cast<std::uint64_t>(seq->get_int64());
  announcement.goodbye = bye->get_bool();
  if (!equal_constant_time(hmac_hex(secret, signed_text(announcement)), std::string_view(*mac))) {
    return std::nullopt;
  }
  return announcement;
}

}  // namespace plume::mesh
