// One service event as a Redis Stream entry of replica sync, and back. Fields:
//   origin   the instance id of the replica where the event happened
//   seq      1, 2, 3... per origin: readers drop repeats (a batch retried after a dropped
//            connection may have been written once already) and count gaps (events lost)
//   path, event
//   data     the event's data, JSON
//   dispatch what the origin's real-time clients receive when that differs from data (a hook's
//            "safe" dispatch), JSON; absent otherwise
//   context  what publishers may need of the call: {provider, user, query, route, id, method}
#pragma once

#include <plume/core/app.hpp>
#include <plume/redis/client.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plume::mesh {

struct SyncEntry {
  std::string origin;
  std::uint64_t seq = 0;
  std::string path;
  std::string event;
  std::string data;                     // JSON text
  std::optional<std::string> dispatch;  // JSON text
  std::string context;                  // JSON text
};

// Serializes the event where it happens (its data only lives during the emit). Throws when the
// data cannot be serialized.
SyncEntry sync_entry_from_event(const ServiceEvent& event, const std::string& origin);

// XADD <stream> MAXLEN ~ <max_length> * <fields...>
std::vector<std::string> xadd_command(const SyncEntry& entry, const std::string& stream,
                                      std::size_t max_length);

// The field list of an entry as XREAD returns it ([field, value, ...]); null when a field is
// missing or malformed.
std::optional<SyncEntry> parse_sync_entry(const redis::Reply& fields);

// True for the context of an event that replica sync re-emitted.
bool is_synced(const HookContext* context) noexcept;
// True for the context of an event the mesh re-emitted for a remote service.
bool is_remote(const HookContext* context) noexcept;

// Re-emits an entry of another replica on `app` with a made-up context that carries the
// origin's call (provider, user, query, route, id, method) and params.extra {synced, origin}.
// Returns false when this replica has no service at the entry's path.
bool reemit_sync_entry(App& app, const SyncEntry& entry);

}  // namespace plume::mesh
