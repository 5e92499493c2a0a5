#include "core/channel_registry.hpp"
#include "core/hook_pipeline.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <thread>

namespace plume {

namespace {

// Feathers' stripSlashes: "/users/" is "users".
std::string_view strip_slashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty()) return segments;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    segments.emplace_back(path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

constexpr std::string_view kStandardEvents[] = {"created", "updated", "patched", "removed"};

// URL paths deeper than this match no service (every registered path is shallower).
constexpr std::size_t kMaxUrlSegments = 32;

}  // namespace

std::string_view default_event_for(std::string_view method) noexcept {
  if (method == "create") return "created";
  if (method == "update") return "updated";
  if (method == "patch") return "patched";
  if (method == "remove") return "removed";
  return {};
}

ServiceEntry::ServiceEntry(App& app, std::string path, std::unique_ptr<Service> service,
                           ServiceOptions options)
    : app_(app), path_(std::move(path)), service_(std::move(service)), options_(std::move(options)) {
  methods_ = options_.methods.empty() ? service_->default_methods() : options_.methods;
  events_.assign(std::begin(kStandardEvents), std::end(kStandardEvents));
  for (const auto& event : options_.events) {
    if (std::find(events_.begin(), events_.end(), event) == events_.end()) events_.push_back(event);
  }
  segments_ = split_path(path_);
}

bool ServiceEntry::exposes(std::string_view method) const noexcept {
  return std::find(methods_.begin(), methods_.end(), method) != methods_.end();
}

ServiceEntry& ServiceEntry::hooks(const Hooks& hooks) {
  hooks_.append(hooks);
  table_.rebuild(hooks_);
  return *this;
}

App::App(AppOptions options)
    : services_(std::make_shared<const ServiceList>()),
      channels_(std::make_shared<detail::ChannelRegistry>()) {
  std::size_t threads = options.worker_threads;
  if (threads == 0) threads = std::max<std::size_t>(2, std::thread::hardware_concurrency());
  workers_ = std::make_unique<WorkerPool>(threads);
}

App::~App() {
  // Blocking work still queued may use the services: finish it before they go.
  workers_->stop();
}

ServiceEntry& App::use(std::string_view path, std::unique_ptr<Service> service, ServiceOptions options,
                       const std::function<void(ServiceEntry&)>& prepare) {
  const std::string clean(strip_slashes(path));
  if (service == nullptr) {
    throw general_error("Service '" + clean + "' is null");
  }
  service->app_ = this;
  service->path_ = clean;
  auto entry = std::make_shared<ServiceEntry>(*this, clean, std::move(service), std::move(options));
  if (prepare) prepare(*entry);
  {
    std::lock_guard lock(registry_mutex_);
    if (find_service(clean) != nullptr) {
      throw general_error("A service is already registered at '" + clean + "'");
    }
    auto next = std::make_shared<ServiceList>(*services_.load());
    next->push_back(entry);
    services_.store(std::move(next));
  }
  // Feathers runs setup(app, path) once the service is registered (stores find their own entry
  // there), outside the lock so that a setup may register services of its own; a failing setup
  // removes the service again.
  try {
    entry->service().setup(*this, entry->path());
  } catch (...) {
    unuse(clean);
    throw;
  }
  return *entry;
}

std::shared_ptr<ServiceEntry> App::unuse(std::string_view path) {
  const std::string_view clean = strip_slashes(path);
  std::lock_guard lock(registry_mutex_);
  auto current = services_.load();
  auto next = std::make_shared<ServiceList>();
  next->reserve(current->size());
  std::shared_ptr<ServiceEntry> removed;
  for (const auto& entry : *current) {
    if (!removed && entry->path() == clean) {
      removed = entry;
    } else {
      next->push_back(entry);
    }
  }
  if (removed) services_.store(std::move(next));
  return removed;
}

ServiceEntry* App::find_service(std::string_view path) noexcept { return find_shared(path).get(); }

std::shared_ptr<ServiceEntry> App::find_shared(std::string_view path) const noexcept {
  const std::string_view clean = strip_slashes(path);
  const auto snapshot = services_.load();
  for (const auto& entry : *snapshot) {
    if (entry->path() == clean) return entry;
  }
  return nullptr;
}

ServiceEntry& App::service(std::string_view path) {
  if (ServiceEntry* entry = find_service(path)) return *entry;
  // Feathers' message for app.service() of an unknown path (application.ts defaultService).
  throw not_found("Can not find service '" + std::string(strip_slashes(path)) + "'");
}

std::optional<RouteMatch> App::lookup(std::string_view url_path) const {
  const std::string_view clean = strip_slashes(url_path);
  std::array<std::string_view, kMaxUrlSegments> segments;
  std::size_t count = 0;
  if (!clean.empty()) {
    std::size_t start = 0;
    while (true) {
      if (count == kMaxUrlSegments) return std::nullopt;
      const std::size_t slash = clean.find('/', start);
      segments[count++] = clean.substr(start, slash == std::string_view::npos ? clean.npos : slash - start);
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
  }

  // Feathers' router walks a tree trying the literal child before placeholders at every depth,
  // and registers "<path>/:__id" for each service. Ranking candidates by the kinds of their
  // segments (literal before placeholder, first difference decides) gives the same winner; on a
  // tie the longer registered path wins over one that takes the last segment as an id.
  const auto snapshot = services_.load();
  const std::shared_ptr<ServiceEntry>* best = nullptr;
  std::uint64_t best_rank = 0;
  for (const auto& entry : *snapshot) {
    const auto& pattern = entry->segments();
    const std::size_t k = pattern.size();
    if (count != k && count != k + 1) continue;
    std::uint64_t rank = 0;
    bool matches = true;
    for (std::size_t i = 0; i < k && matches; ++i) {
      const std::string& expected = pattern[i];
      if (!expected.empty() && expected.front() == ':') {
        matches = !segments[i].empty();
        rank |= std::uint64_t{1} << (63 - i);
      } else {
        matches = segments[i] == expected;
      }
    }
    if (!matches) continue;
    if (count == k + 1) {
      if (segments[k].empty()) continue;
      rank |= std::uint64_t{1} << (63 - k);
    }
    if (best == nullptr || rank < best_rank || (rank == best_rank && k > (*best)->segments().size())) {
      best = &entry;
      best_rank = rank;
    }
  }
  if (best == nullptr) return std::nullopt;

  RouteMatch match;
  match.entry = *best;
  const auto& pattern = match.entry->segments();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (!pattern[i].empty() && pattern[i].front() == ':') {
      match.route[std::string_view(pattern[i]).substr(1)] = segments[i];
    }
  }
  if (count == pattern.size() + 1) match.id = std::string(segments[pattern.size()]);
  return match;
}

App& App::hooks(const Hooks& hooks) {
  hooks_.append(hooks);
  table_.rebuild(hooks_);
  return *this;
}

Task<void> App::run(HookContext& context) {
  if (context.path.empty()) context.path = context.entry.path();
  // Feathers' eventHook, the outermost app hook, starts every call with the default event.
  if (const std::string_view event = default_event_for(context.method); event.empty()) {
    context.event.reset();
  } else {
    context.event = std::string(event);
  }

  const LevelHooks& app_hooks = table_.for_method(context.method);
  const LevelHooks& service_hooks = context.entry.hook_table().for_method(context.method);
  std::exception_ptr failure;
  try {
    if (app_hooks.empty() && service_hooks.empty()) {
      // The common case: no hooks anywhere, nothing to build.
      if (!context.result) context.result = co_await detail::start_service_method(context);
    } else {
      co_await detail::run_hook_pipeline(context, app_hooks, service_hooks);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    context.error = Error::from_exception(failure);
    throw *context.error;
  }

  // One event per record for array results; events the service declared itself it emits itself
  // (Feathers' eventHook skips those).
  if (!context.event) co_return;
  if (listeners_.empty() && publishers_.empty() && !publish_all_ &&
      context.entry.publisher_for(*context.event) == nullptr) {
    co_return;
  }
  const auto& own_events = context.entry.options().events;
  if (std::find(own_events.begin(), own_events.end(), *context.event) != own_events.end()) co_return;
  static const Json kNull = nullptr;
  const Json& result = context.result ? *context.result : kNull;
  if (const auto* records = result.if_array()) {
    for (const auto& record : *records) emit_event(context.entry.path(), *context.event, record, &context);
  } else {
    emit_event(context.entry.path(), *context.event, result, &context);
  }
}

// The remaining HookContext members keep their defaults (-Wextra would list each one).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
HookContext App::context_for(ServiceEntry& entry, std::string_view method, Params params) {
  HookContext context{.app = *this,
                      .entry = entry,
                      .service = entry.service(),
                      .path = entry.path(),
                      .method = std::string(method)};
  context.params = std::move(params);
  return context;
}
#pragma GCC diagnostic pop

namespace {

Json take_result(HookContext& context) { return context.result ? std::move(*context.result) : Json(nullptr); }

}  // namespace

Task<Json> App::find(std::string_view path, Params params) {
  HookContext context = context_for(service(path), "find", std::move(params));
  co_await run(context);
  co_return take_result(context);
}

Task<Json> App::get(std::string_view path, Id id, Params params) {
  HookContext context = context_for(service(path), "get", std::move(params));
  context.id = std::move(id);
  co_await run(context);
  co_return take_result(context);
}

Task<Json> App::create(std::string_view path, Json data, Params params) {
  HookContext context = context_for(service(path), "create", std::move(params));
  context.data = std::move(data);
  co_await run(context);
  co_return take_result(context);
}

Task<Json> App::update(std::string_view path, NullableId id, Json data, Params params) {
  HookContext context = context_for(service(path), "update", std::move(params));
  context.id = std::move(id);
  context.data = std::move(data);
  co_await run(context);
  co_return take_result(context);
}

Task<Json> App::patch(std::string_view path, NullableId id, Json data, Params params) {
  HookContext context = context_for(service(path), "patch", std::move(params));
  context.id = std::move(id);
  context.data = std::move(data);
  co_await run(context);
  co_return take_result(context);
}

Task<Json> App::remove(std::string_view path, NullableId id, Params params) {
  HookContext context = context_for(service(path), "remove", std::move(params));
  context.id = std::move(id);
  co_await run(context);
  co_return take_result(context);
}

Task<Json> App::call(std::string_view path, std::string_view method, Json data, Params params) {
  HookContext context = context_for(service(path), method, std::move(params));
  context.data = std::move(data);
  co_await run(context);
  co_return take_result(context);
}

void App::on_event(EventListener listener) { listeners_.push_back(std::move(listener)); }

void App::emit_event(std::string_view path, std::string_view event, const Json& data,
                     const HookContext* context) {
  const ServiceEvent service_event{path, event, data, context};
  for (const auto& listener : listeners_) {
    try {
      listener(service_event);
    } catch (const std::exception& e) {
      // The call already succeeded; a failing listener (a closed connection) must not undo it.
      spdlog::warn("event listener failed path={} event={} error=\"{}\"", path, event, e.what());
    }
  }
  publish_event(path, event, data, context);
}

}  // namespace plume
