// The whole public API of Plume's core: services, hooks, the App, queries and schemas.
// Stores and the HTTP server have their own headers under plume/store and plume/transport.
#pragma once

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>
#include <plume/core/hooks.hpp>
#include <plume/core/id.hpp>
#include <plume/core/json.hpp>
#include <plume/core/metrics.hpp>
#include <plume/core/params.hpp>
#include <plume/core/query.hpp>
#include <plume/core/schema.hpp>
#include <plume/core/service.hpp>
#include <plume/core/task.hpp>
