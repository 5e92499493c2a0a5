// The call pipeline behind App::run: app and service hooks around the service method, nested as
// Feathers 5 nests its middleware (packages/feathers/src/hooks.ts collectHooks, and
// @feathersjs/hooks' regular hooks).
#pragma once

#include <plume/core/hooks.hpp>

namespace plume::detail {

// Runs `context` through the app's hooks, then the service's, then the method. Exceptions
// escape after the error hooks of every level they crossed have run.
Task<void> run_hook_pipeline(HookContext& context, const LevelHooks& app, const LevelHooks& service);

// Starts the Service method named by context.method with the context's id, data and params,
// without hooks. `get` without an id is a BadRequest.
Task<Json> start_service_method(HookContext& context);

}  // namespace plume::detail
