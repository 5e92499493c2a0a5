// The mesh protocol: JSON text frames over a Link, each an object whose "t" names its kind.
// Service state, subscriptions, calls, replies and events, all in explicit envelopes (a record
// is never mixed with routing fields, unlike feathers-distributed's {path, key, ...data}):
//
//   services   {"t":"services","services":[{"path","methods":[..],"events":[..]}]}
//              The sender's full state: its local services matching mesh.publish, never its
//              proxies. Sent when the link comes up and again whenever that list changes.
//   subscribe  {"t":"subscribe","paths":[..]}     the full set of paths the sender consumes
//   subscribed {"t":"subscribed","paths":[..]}    the owner has recorded them: events of those
//              paths follow this frame on the link, so a proxy registered on this ack misses none
//   call       {"t":"call","id":N,"path","method","recordId"?,"data"?,"params":{..},"timeoutMs":N}
//              params is a whitelist: query, provider, user, authentication, route, paginate and
//              the headers in kForwardedHeaders; timeoutMs is what is left of the caller's deadline
//   reply      {"t":"reply","id":N,"result":..} or {"t":"reply","id":N,"error":{Feathers error}}
//   event      {"t":"event","path","event","data","context":{"method","id","params":
//              {"provider","user","query"}}}
#pragma once

#include <plume/core/error.hpp>
#include <plume/core/id.hpp>
#include <plume/core/json.hpp>
#include <plume/core/params.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plume {
struct HookContext;
}

namespace plume::mesh {

// Request headers that travel with a remote call: the credentials the owner may verify again,
// and the tracing headers its logs use. Everything else stays at the edge.
inline constexpr std::string_view kForwardedHeaders[] = {"authorization", "x-request-id", "x-forwarded-for"};

struct ServiceDescriptor {
  std::string path;
  std::vector<std::string> methods;
  std::vector<std::string> events;

  friend bool operator==(const ServiceDescriptor&, const ServiceDescriptor&) = default;
};

struct CallFrame {
  std::uint64_t id = 0;
  std::string path;
  std::string method;
  // Whether the method takes an id (get, update, patch, remove), and the id (null = many).
  bool has_record_id = false;
  NullableId record_id;
  Json data = nullptr;
  Params params;
  std::int64_t timeout_ms = 0;
};

struct EventFrame {
  std::string path;
  std::string event;
  Json data = nullptr;
  std::string method;
  NullableId id;
  Params params;  // provider, user, query only
};

// "*" matches any run of characters (slashes included), "?" one character.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;
bool matches_any(const std::vector<std::string>& patterns, std::string_view text) noexcept;

// The kind of a parsed frame ("" when it has none).
std::string_view frame_type(const Json& frame) noexcept;

std::string encode_services(const std::vector<ServiceDescriptor>& services);
std::vector<ServiceDescriptor> decode_services(const Json& frame);

std::string encode_paths(std::string_view type, const std::vector<std::string>& paths);
std::vector<std::string> decode_paths(const Json& frame);

// The whitelisted params as they travel, and back.
Json encode_params(const Params& params);
Params decode_params(const Json& params);

std::string encode_call(const CallFrame& call);
// The same with the caller's params (not copied into the frame).
std::string encode_call(const CallFrame& call, const Params& params);
CallFrame decode_call(const Json& frame);

std::string encode_reply(std::uint64_t id, const Json& result);
std::string encode_error_reply(std::uint64_t id, const Error& error);

// The event envelope; `context` may be null (a custom event the service emitted itself).
std::string encode_event(std::string_view path, std::string_view event, const Json& data,
                         const HookContext* context);
EventFrame decode_event(const Json& frame);

}  // namespace plume::mesh
