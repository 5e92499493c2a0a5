// App is the service registry: services by path (with ":name" placeholders), app-level hooks,
// the call pipeline that runs hooks in Feathers' order and emits service events, and listeners
// for those events (transports, the mesh and sync subscribe here).
#pragma once

#include <plume/core/channels.hpp>
#include <plume/core/hooks.hpp>
#include <plume/core/service.hpp>
#include <plume/core/task.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plume {

class Schema;

// A registered service: the service, its path and options, and its hooks.
class ServiceEntry {
 public:
  ServiceEntry(App& app, std::string path, std::unique_ptr<Service> service, ServiceOptions options);

  Service& service() noexcept { return *service_; }
  const std::string& path() const noexcept { return path_; }
  const ServiceOptions& options() const noexcept { return options_; }
  // True when `method` may be called from outside (it is in options().methods, or when that is
  // empty in service().default_methods()).
  bool exposes(std::string_view method) const noexcept;
  // The methods callable from outside, as exposes() decides.
  const std::vector<std::string>& methods() const noexcept { return methods_; }
  // Every event the service emits: created, updated, patched, removed and its custom events.
  const std::vector<std::string>& events() const noexcept { return events_; }
  // The schema of the records, when the service has one (REST coerces query strings by it).
  const Schema* schema() const noexcept { return schema_; }
  void set_schema(const Schema* schema) noexcept { schema_ = schema; }

  // Adds hooks to this service: app.service("messages").hooks({.before = {{"create", {f}}}}).
  ServiceEntry& hooks(const Hooks& hooks);
  const Hooks& registered_hooks() const noexcept { return hooks_; }
  // The registered hooks resolved per method (what the call pipeline runs).
  const HookTable& hook_table() const noexcept { return table_; }
  // The path split at '/', placeholders keeping their ':' ("users", ":userId", "messages").
  const std::vector<std::string>& segments() const noexcept { return segments_; }

  // Publishers for this service's events (Feathers' service.publish): for every event, or for one
  // event, which must be one the service emits (else GeneralError "'<event>' is not a valid
  // service event"). Registering again for the same event replaces the publisher.
  ServiceEntry& publish(Publisher publisher);
  ServiceEntry& publish(std::string_view event, Publisher publisher);
  // The publisher for `event`: the one for that event, else the catch-all, else null.
  const Publisher* publisher_for(std::string_view event) const noexcept;

 private:
  App& app_;
  std::string path_;
  std::unique_ptr<Service> service_;
  ServiceOptions options_;
  std::vector<std::string> methods_;
  std::vector<std::string> events_;
  std::vector<std::string> segments_;
  const Schema* schema_ = nullptr;
  Hooks hooks_;
  HookTable table_;
  std::map<std::string, Publisher, std::less<>> publishers_;
  Publisher publish_all_;
};

// A service event as listeners see it.
struct ServiceEvent {
  std::string_view path;
  std::string_view event;
  const Json& data;
  const HookContext* context;  // null for custom events emitted by the service itself
};
using EventListener = std::function<void(const ServiceEvent&)>;

// The result of resolving a URL path: the service, the id segment if any, and placeholder values.
struct RouteMatch {
  // Shared: a service removed at run time (a mesh proxy whose last node left) stays alive for
  // the calls that resolved it.
  std::shared_ptr<ServiceEntry> entry;
  std::optional<std::string> id;
  JsonObject route;
};

struct AppOptions {
  // Threads for blocking work (SQLite, hashing). 0 = max(2, hardware threads).
  std::size_t worker_threads = 0;
};

class App {
 public:
  explicit App(AppOptions options = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Registers a service. Leading and trailing slashes are stripped; "users/:userId/messages"
  // registers a path with a placeholder. Registering a path twice throws. `prepare` runs on the
  // entry before any caller can see it (hooks that must guard the very first call).
  // Services may be registered and removed while the node serves calls (the mesh's proxies):
  // lookups read an immutable snapshot of the registry, writers replace it.
  ServiceEntry& use(std::string_view path, std::unique_ptr<Service> service, ServiceOptions options = {},
                    const std::function<void(ServiceEntry&)>& prepare = {});
  // Removes the service at `path` (Feathers' app.unuse) and returns it, or null when absent.
  // Calls already running keep the entry alive until they finish.
  std::shared_ptr<ServiceEntry> unuse(std::string_view path);
  // The service at exactly this path (slashes stripped); throws NotFound("Can not find service
  // 'x'"), Feathers' message, when absent.
  ServiceEntry& service(std::string_view path);
  // The service at exactly this path, or null. The pointer stays valid while the service is
  // registered; callers that may outlive an unuse() hold find_shared()'s result instead.
  ServiceEntry* find_service(std::string_view path) noexcept;
  std::shared_ptr<ServiceEntry> find_shared(std::string_view path) const noexcept;
  using ServiceList = std::vector<std::shared_ptr<ServiceEntry>>;
  // The registered services in registration order, as one consistent snapshot.
  std::shared_ptr<const ServiceList> services() const noexcept { return services_.load(); }

  // Resolves "messages", "messages/7" or "users/7/messages/3" to a service, an id and route
  // values: the longest registered path wins, then one more segment is the id.
  std::optional<RouteMatch> lookup(std::string_view url_path) const;

  // App-level hooks, run for every service.
  App& hooks(const Hooks& hooks);

  // Runs a call through the hook pipeline. Fill context.method, id, data and params first; on
  // return context.result (and dispatch, status_code) hold the outcome. Errors propagate as
  // plume::Error after the error hooks ran (context.error holds it too; after a recovery by an
  // error hook it keeps the recovered error, as in Feathers). Events are emitted on success.
  Task<void> run(HookContext& context);
  // A fresh context for calling `method` on `entry` (the other fields at their defaults), for
  // transports and internal callers that fill in id, data and params and then run() it.
  HookContext context_for(ServiceEntry& entry, std::string_view method, Params params = {});

  // Internal calls (provider empty unless params say otherwise); they run hooks and emit events.
  Task<Json> find(std::string_view path, Params params = {});
  Task<Json> get(std::string_view path, Id id, Params params = {});
  Task<Json> create(std::string_view path, Json data, Params params = {});
  Task<Json> update(std::string_view path, NullableId id, Json data, Params params = {});
  Task<Json> patch(std::string_view path, NullableId id, Json data, Params params = {});
  Task<Json> remove(std::string_view path, NullableId id, Params params = {});
  Task<Json> call(std::string_view path, std::string_view method, Json data, Params params = {});

  // Service events, one per record for multi results, after the whole hook pipeline succeeded.
  // emit_event runs the listeners, then publishes the event to the channels its publisher
  // returns (events the service does not emit, and events of unknown paths, are not published).
  void on_event(EventListener listener);
  void emit_event(std::string_view path, std::string_view event, const Json& data,
                  const HookContext* context);

  // Channels (Feathers' app.channel): the named channel, created if absent; several names give
  // a combined channel (connections de-duplicated). channel({}) throws GeneralError.
  Channel channel(std::string_view name);
  Channel channel(std::initializer_list<std::string_view> names);
  Channel channel(const std::vector<std::string>& names);
  // The names of the existing channels (Feathers' app.channels).
  std::vector<std::string> channel_names() const;
  // Every connected connection (between connect and disconnect), as a live channel.
  Channel all_connections();

  // App-level publishers (Feathers' app.publish), consulted after the service's own: service
  // publisher for the event, service catch-all, app publisher for the event, app catch-all.
  // Any event name is accepted here. Registering again for the same event replaces it.
  App& publish(Publisher publisher);
  App& publish(std::string_view event, Publisher publisher);

  // Real-time connection lifecycle, called by transports and the authentication service.
  // connect: the connection counts as connected, then 'connection' listeners run.
  void connect(ConnectionPtr connection);
  // disconnect: the connection leaves every channel and is no longer connected, then
  // 'disconnect' listeners run (as Feathers' socket transport leaves channels first).
  void disconnect(const ConnectionPtr& connection);
  // login: 'login' listeners run with the authentication result ({accessToken, authentication,
  // user}). The connection's own login state (Connection::set_login) is the caller's to set.
  void login(const ConnectionPtr& connection, const Json& auth_result);
  // logout: the connection leaves every channel, then 'logout' listeners run.
  void logout(const ConnectionPtr& connection, const Json& auth_result = nullptr);
  // Listeners run in registration order on the caller's thread; a throwing listener is logged
  // and the next one runs.
  void on_connection_event(ConnectionEventKind kind, ConnectionListener listener);

  WorkerPool& workers() noexcept { return *workers_; }

  // Application settings (the resolved configuration), for services and hooks to read.
  Json& settings() noexcept { return settings_; }

 private:
  std::atomic<std::shared_ptr<const ServiceList>> services_;
  std::mutex registry_mutex_;  // serialises use() and unuse()
  Hooks hooks_;
  HookTable table_;
  std::vector<EventListener> listeners_;
  std::shared_ptr<detail::ChannelRegistry> channels_;
  std::map<std::string, Publisher, std::less<>> publishers_;
  Publisher publish_all_;
  std::array<std::vector<ConnectionListener>, 4> connection_listeners_;  // by ConnectionEventKind
  std::unique_ptr<WorkerPool> workers_;
  Json settings_ = JsonObject{};

  void publish_event(std::string_view path, std::string_view event, const Json& data,
                     const HookContext* context);
  void dispatch(const Channels& channels, std::string_view path, std::string_view event, const Json& data,
                const HookContext& context);
  void fire(ConnectionEventKind kind, const ConnectionPtr& connection, const Json& auth_result);
};

// "created" for create, "updated", "patched", "removed"; empty for custom methods.
std::string_view default_event_for(std::string_view method) noexcept;

}  // namespace plume
