// Active health checks: GET <path> on a target every interval on its own connection (never a
// pooled one, so that a check measures the target and not a stale socket).
#pragma once

#include "gateway/gateway_state.hpp"

#include <memory>

namespace plume::gateway {

Task<void> run_health_checks(Gateway::State* state, std::shared_ptr<Target> target,
                             HealthCheckOptions options);

}  // namespace plume::gateway
