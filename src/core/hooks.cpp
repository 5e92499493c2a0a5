#include "core/hook_pipeline.hpp"

#include <plume/core/app.hpp>
#include <plume/core/service.hpp>

#include <exception>
#include <utility>

namespace plume {

namespace {

template <class H>
void append_map(MethodHooks<H>& to, const MethodHooks<H>& from) {
  for (const auto& [method, hooks] : from) {
    auto& list = to[method];
    list.insert(list.end(), hooks.begin(), hooks.end());
  }
}

template <class H>
bool map_empty(const MethodHooks<H>& hooks) {
  for (const auto& [method, list] : hooks) {
    if (!list.empty()) return false;
  }
  return true;
}

template <class H>
void copy_hooks(std::vector<H>& to, const MethodHooks<H>& from, std::string_view method) {
  if (method.empty()) return;
  if (const auto it = from.find(method); it != from.end()) {
    to.insert(to.end(), it->second.begin(), it->second.end());
  }
}

// One level's hooks for `method`; an empty method gives the "all" hooks alone.
LevelHooks resolve(const Hooks& hooks, std::string_view method) {
  LevelHooks level;
  copy_hooks(level.around, hooks.around, "all");
  copy_hooks(level.around, hooks.around, method);
  copy_hooks(level.before_all, hooks.before, "all");
  copy_hooks(level.before_method, hooks.before, method);
  copy_hooks(level.after_all, hooks.after, "all");
  copy_hooks(level.after_method, hooks.after, method);
  copy_hooks(level.error_method, hooks.error, method);
  copy_hooks(level.error_all, hooks.error, "all");
  return level;
}

int standard_index(std::string_view method) noexcept {
  for (int i = 0; i < 6; ++i) {
    if (kStandardMethods[i] == method) return i;
  }
  return -1;
}

}  // namespace

void Hooks::append(const Hooks& other) {
  append_map(around, other.around);
  append_map(before, other.before);
  append_map(after, other.after);
  append_map(error, other.error);
}

bool Hooks::empty() const noexcept {
  return map_empty(around) && map_empty(before) && map_empty(after) && map_empty(error);
}

bool LevelHooks::empty() const noexcept {
  return around.empty() && before_all.empty() && before_method.empty() && after_all.empty() &&
         after_method.empty() && error_method.empty() && error_all.empty();
}

void HookTable::rebuild(const Hooks& hooks) {
  for (int i = 0; i < 6; ++i) {
    standard_[i] = resolve(hooks, kStandardMethods[i]);
  }
  custom_.clear();
  const auto add_custom = [&](const auto& map) {
    for (const auto& [method, list] : map) {
      if (method != "all" && standard_index(method) < 0 && !custom_.contains(method)) {
        custom_.emplace(method, resolve(hooks, method));
      }
    }
  };
  add_custom(hooks.around);
  add_custom(hooks.before);
  add_custom(hooks.after);
  add_custom(hooks.error);
  all_only_ = resolve(hooks, "");
  empty_ = hooks.empty();
}

const LevelHooks& HookTable::for_method(std::string_view method) const noexcept {
  if (const int i = standard_index(method); i >= 0) return standard_[i];
  if (const auto it = custom_.find(method); it != custom_.end()) return it->second;
  return all_only_;
}

const Json& HookContext::reply() const {
  static const Json kNull = nullptr;
  if (dispatch) return *dispatch;
  if (result) return *result;
  return kNull;
}

namespace detail {

Task<Json> start_service_method(HookContext& context) {
  Service& service = context.service;
  const std::string& method = context.method;
  // Arguments as Feathers' defaultServiceArguments lay them out; custom methods take (data, params).
  switch (standard_index(method)) {
    case 0:
      return service.find(context.params);
    case 1:
      if (!context.id) {
        throw bad_request("An id must be provided to the 'get' method");
      }
      return service.get(*context.id, context.params);
    case 2:
      return service.create(context.data, context.params);
    case 3:
      return service.update(context.id, context.data, context.params);
    case 4:
      return service.patch(context.id, context.data, context.params);
    case 5:
      return service.remove(context.id, context.params);
    default:
      return service.call_custom(method, context.data, context.params);
  }
}

namespace {

// The two levels of one call, outermost (the app) first.
struct Levels {
  const LevelHooks* level[2];
};

Task<void> run_around(HookContext& context, const Levels& levels, int level, std::size_t index);

Task<void> run_hooks(HookContext& context, const std::vector<Hook>& hooks, HookType type) {
  for (const auto& hook : hooks) {
    context.type = type;
    co_await hook(context);
  }
}

// @feathersjs/hooks' error middleware: the error (converted to plume::Error) goes on the context,
// the result is cleared, every error hook of the group runs; a hook that sets a result recovers
// the call, otherwise context.error (which a hook may have replaced) is thrown on.
Task<void> handle_error(HookContext& context, const std::vector<Hook>& hooks, std::exception_ptr failure) {
  context.error = Error::from_exception(failure);
  context.result.reset();
  co_await run_hooks(context, hooks, HookType::Error);
  if (!context.result) {
    if (context.error) throw *context.error;
    std::rethrow_exception(failure);
  }
}

// What a level wraps: the next level's hooks, or the method itself (skipped when a hook has
// already set a result).
Task<void> run_inner(HookContext& context, const Levels& levels, int level) {
  if (level == 0) {
    co_await run_around(context, levels, 1, 0);
  } else if (!context.result) {
    context.result = co_await start_service_method(context);
  }
}

// Feathers' collected[<m>] middleware: error <m> around (before <m>, inner, after all, after <m>).
// "after all" is the innermost middleware (collectedAll.after), so it runs before "after <m>".
Task<void> run_method_hooks(HookContext& context, const Levels& levels, int level) {
  const LevelHooks& hooks = *levels.level[level];
  std::exception_ptr failure;
  try {
    if (!hooks.before_method.empty()) co_await run_hooks(context, hooks.before_method, HookType::Before);
    co_await run_inner(context, levels, level);
    if (!hooks.after_all.empty()) co_await run_hooks(context, hooks.after_all, HookType::After);
    if (!hooks.after_method.empty()) co_await run_hooks(context, hooks.after_method, HookType::After);
  } catch (...) {
    if (hooks.error_method.empty()) throw;
    failure = std::current_exception();
  }
  if (failure) co_await handle_error(context, hooks.error_method, failure);
}

// Feathers' collectedAll.before middleware: error all around (before all, the method's hooks).
Task<void> run_regular_hooks(HookContext& context, const Levels& levels, int level) {
  const LevelHooks& hooks = *levels.level[level];
  std::exception_ptr failure;
  try {
    if (!hooks.before_all.empty()) co_await run_hooks(context, hooks.before_all, HookType::Before);
    co_await run_method_hooks(context, levels, level);
  } catch (...) {
    if (hooks.error_all.empty()) throw;
    failure = std::current_exception();
  }
  if (failure) co_await handle_error(context, hooks.error_all, failure);
}

Task<void> run_around(HookContext& context, const Levels& levels, int level, std::size_t index) {
  const LevelHooks& hooks = *levels.level[level];
  if (index < hooks.around.size()) {
    const Next next = [&context, &levels, level, index]() {
      return run_around(context, levels, level, index + 1);
    };
    context.type = HookType::Around;
    co_await hooks.around[index](context, next);
  } else if (hooks.empty()) {
    co_await run_inner(context, levels, level);
  } else {
    co_await run_regular_hooks(context, levels, level);
  }
}

}  // namespace

Task<void> run_hook_pipeline(HookContext& context, const LevelHooks& app, const LevelHooks& service) {
  const Levels levels{{&app, &service}};
  co_await run_around(context, levels, 0, 0);
}

}  // namespace detail

}  // namespace plume
