// Hooks: around, before, after and error functions over a HookContext, registered per method or
// for "all", on a service or on the app, and run in Feathers' order:
//   app around all, app around <m>, app before all, app before <m>,
//   service around all, service around <m>, service before all, service before <m>,
//   METHOD (skipped when a hook has set context.result),
//   service after all, service after <m>, app after all, app after <m>, then the event.
// On an error: service error <m>, service error all, app error <m>, app error all; an error hook
// that sets context.result recovers the call (outer error hooks are skipped, outer after hooks and
// the event run). As in Feathers, "error all" wraps "before all" while "error <m>" wraps only
// "before <m>", the method and the after hooks, so a failing before-all hook skips "error <m>".
#pragma once

#include <plume/core/error.hpp>
#include <plume/core/id.hpp>
#include <plume/core/json.hpp>
#include <plume/core/params.hpp>
#include <plume/core/task.hpp>

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace plume {

class App;
class Service;
class ServiceEntry;

enum class HookType { Around, Before, After, Error };

struct HookContext {
  App& app;
  ServiceEntry& entry;
  Service& service;
  std::string path;
  std::string method;
  HookType type = HookType::Before;

  NullableId id;
  Json data = nullptr;
  Params params;

  // Setting result before the method runs skips it; in an error hook it recovers the call.
  std::optional<Json> result;
  // What external callers receive instead of result ("safe" data); transports send
  // dispatch if set, else result.
  std::optional<Json> dispatch;
  std::optional<Error> error;
  // The event emitted after success ("created" for create...). Hooks may rename it, or set it to
  // nullopt to suppress it (Feathers' context.event = null).
  std::optional<std::string> event;
  // HTTP status for REST replies (Feathers' context.http.status), and a Location header.
  std::optional<int> status_code;
  std::string location;

  // The value transports send: dispatch if set, else result, else null.
  const Json& reply() const;
};

using Hook = std::function<Task<void>(HookContext&)>;
using Next = std::function<Task<void>()>;
using AroundHook = std::function<Task<void>(HookContext&, const Next&)>;

// Method name ("find", "create", a custom method, or "all") to hooks, run in registration order.
template <class H>
using MethodHooks = std::map<std::string, std::vector<H>, std::less<>>;

struct Hooks {
  MethodHooks<AroundHook> around;
  MethodHooks<Hook> before;
  MethodHooks<Hook> after;
  MethodHooks<Hook> error;

  // Appends other's hooks after this one's (registering hooks twice adds to them).
  void append(const Hooks& other);
  bool empty() const noexcept;
};

// One level's (app's or a service's) hooks for one method, resolved when hooks are registered so
// that a call finds them without lookups or allocation. Order within each list is run order.
struct LevelHooks {
  std::vector<AroundHook> around;  // around "all", then around <m>
  std::vector<Hook> before_all;
  std::vector<Hook> before_method;
  std::vector<Hook> after_all;
  std::vector<Hook> after_method;
  std::vector<Hook> error_method;
  std::vector<Hook> error_all;

  bool empty() const noexcept;
};

// Hooks by method: the six standard methods in an array, custom methods in a map, and the "all"
// hooks alone for custom methods that have none of their own.
class HookTable {
 public:
  void rebuild(const Hooks& hooks);
  const LevelHooks& for_method(std::string_view method) const noexcept;
  bool empty() const noexcept { return empty_; }

 private:
  std::array<LevelHooks, 6> standard_;
  std::map<std::string, LevelHooks, std::less<>> custom_;
  LevelHooks all_only_;
  bool empty_ = true;
};

}  // namespace plume
