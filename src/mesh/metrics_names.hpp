// The mesh's metrics, as /metrics shows them.
#pragma once

namespace plume::mesh {

inline constexpr const char* kCallsMetric = "plume_mesh_calls_total";
inline constexpr const char* kRetriesMetric = "plume_mesh_retries_total";
inline constexpr const char* kBreakerTripsMetric = "plume_mesh_breaker_trips_total";
inline constexpr const char* kLinkEventsMetric = "plume_mesh_link_events_total";
inline constexpr const char* kLinksMetric = "plume_mesh_links";
inline constexpr const char* kEventsMetric = "plume_mesh_events_total";

// Declares them in the global registry (once per process).
void describe_mesh_metrics();

}  // namespace plume::mesh
