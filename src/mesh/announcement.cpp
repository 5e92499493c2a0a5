#include "mesh/announcement.hpp"

#include <plume/core/digest.hpp>
#include <plume/core/json.hpp>

#include <array>
#include <stdexcept>

namespace plume::mesh {

namespace {

// The signed part: every field in a fixed order, so both sides hash the same bytes whatever
// order the JSON object had on the wire.
std::string signed_text(const Announcement& a) {
  return std::to_string(a.version) + '\n' + a.node + '\n' + a.instance + '\n' + a.address + '\n' +
         std::to_string(a.seq) + '\n' + (a.goodbye ? "1" : "0");
}

}  // namespace

std::string encode_announcement(const Announcement& announcement, std::string_view secret) {
  JsonObject object{{"v", announcement.version},
                    {"node", announcement.node},
                    {"instance", announcement.instance},
                    {"address", announcement.address},
                    {"seq", announcement.seq},
                    {"bye", announcement.goodbye},
                    {"mac", hmac_sha256_hex(secret, signed_text(announcement))}};
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
  if (!equal_constant_time(hmac_sha256_hex(secret, signed_text(announcement)), std::string_view(*mac))) {
    return std::nullopt;
  }
  return announcement;
}

}  // namespace plume::mesh
