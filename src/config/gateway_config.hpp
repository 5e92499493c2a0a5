// The `gateway` section of a node's configuration as GatewayOptions. The section has been
// validated by the schema (config_schema.cpp) already; this only converts it.
#pragma once

#include <plume/core/json.hpp>
#include <plume/gateway/gateway.hpp>

#include <optional>

namespace plume::config {

// The gateway's options, or nullopt when the configuration has no gateway routes.
// `resolved_config` is the whole resolved configuration (logging.access turns the gateway's
// access log on). Throws plume::Error BadRequest for values only conversion can reject.
std::optional<gateway::GatewayOptions> gateway_options(const Json& resolved_config);

}  // namespace plume::config
