// libFuzzer target for what a node reads from its peers: mesh frames (services, subscribe,
// subscribed, call, reply, event) as MeshCore::on_frame parses and decodes them, and discovery
// announcements (UDP datagrams anyone on the network can send). Properties: decoding fails only
// with plume::Error; a decoded call, services list or path list encodes to a frame that decodes
// to the same thing and encodes to the same text; an announcement is refused or verified, and a
// verified one encodes and decodes back unchanged.
#include "mesh/announcement.hpp"
#include "mesh/protocol.hpp"
#include "testing/fuzz_support.hpp"

#include <plume/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using plume::Json;
using plume::testing::fuzz_check;
namespace mesh = plume::mesh;

// The cluster secret the announcements in the seed corpus are signed with.
constexpr std::string_view kSecret = "fuzz-cluster-secret";

// Decodes a frame this node encoded: that must not fail.
template <class Decode>
auto decode_again(const std::string& text, Decode decode) {
  try {
    return decode(plume::parse_json(text));
  } catch (const plume::Error& error) {
    std::fprintf(stderr, "%s: %s\n", text.c_str(), error.what());
    fuzz_check(false, "an encoded frame decodes");
    throw;
  }
}

bool same_params(const plume::Params& a, const plume::Params& b) {
  const bool same_paginate = a.paginate.has_value() == b.paginate.has_value() &&
                             (!a.paginate || (a.paginate->enabled == b.paginate->enabled &&
                                              a.paginate->default_limit == b.paginate->default_limit &&
                                              a.paginate->max_limit == b.paginate->max_limit));
  return plume::json_equal(a.query, b.query) && a.provider == b.provider &&
         plume::json_equal(a.user, b.user) && plume::json_equal(a.authentication, b.authentication) &&
         plume::json_equal(a.route, b.route) && plume::json_equal(a.headers, b.headers) && same_paginate;
}

void check_call(const Json& frame) {
  const mesh::CallFrame call = mesh::decode_call(frame);
  if (plume::testing::has_non_finite(frame)) return;
  const std::string encoded = mesh::encode_call(call);
  const mesh::CallFrame again = decode_again(encoded, mesh::decode_call);
  fuzz_check(again.id == call.id && again.path == call.path && again.method == call.method &&
                 again.has_record_id == call.has_record_id && again.record_id == call.record_id &&
                 plume::json_equal(again.data, call.data) && again.timeout_ms == call.timeout_ms,
             "a call frame round-trips");
  fuzz_check(same_params(again.params, call.params), "a call's params round-trip");
  fuzz_check(mesh::encode_call(again) == encoded, "a call frame encodes the same twice");
}

void check_frame(const Json& frame) {
  const std::string_view type = mesh::frame_type(frame);
  if (type == "call") {
    check_call(frame);
  } else if (type == "services") {
    const auto services = mesh::decode_services(frame);
    const std::string encoded = mesh::encode_services(services);
    fuzz_check(decode_again(encoded, mesh::decode_services) == services, "a services frame round-trips");
  } else if (type == "subscribe" || type == "subscribed") {
    const auto paths = mesh::decode_paths(frame);
    const std::string encoded = mesh::encode_paths(type, paths);
    fuzz_check(decode_again(encoded, mesh::decode_paths) == paths, "a paths frame round-trips");
  } else if (type == "event") {
    const mesh::EventFrame event = mesh::decode_event(frame);
    fuzz_check(!event.path.empty() || frame.get_object().at("path").get_string().empty(),
               "an event keeps its path");
  } else if (type == "reply") {
    // MeshCore::on_reply reads id, then result or error (a Feathers error's JSON shape).
    if (const auto* error = frame.get_object().if_contains("error")) {
      const plume::Error rebuilt = plume::Error::from_json(*error);
      fuzz_check(rebuilt.status() >= 400 && rebuilt.status() < 600, "a reply's error has an error status");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto announcement = mesh::decode_announcement(text, kSecret)) {
    const auto again = mesh::decode_announcement(mesh::encode_announcement(*announcement, kSecret), kSecret);
    fuzz_check(again && again->node == announcement->node && again->instance == announcement->instance &&
                   again->address == announcement->address && again->seq == announcement->seq &&
                   again->goodbye == announcement->goodbye,
               "a verified announcement round-trips");
  }

  Json frame;
  try {
    frame = plume::parse_json(text);
  } catch (const plume::Error&) {
    return 0;
  }
  try {
    check_frame(frame);
  } catch (const plume::Error&) {
  }
  return 0;
}
