// Service is Feathers' uniform interface: find, get, create, update, patch, remove and custom
// methods, each a coroutine. A service overrides the methods it supports; the rest answer
// MethodNotAllowed. ServiceOptions say which methods are reachable from outside and which
// custom events the service emits.
#pragma once

#include <plume/core/id.hpp>
#include <plume/core/json.hpp>
#include <plume/core/params.hpp>
#include <plume/core/task.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace plume {

class App;

class Service {
 public:
  virtual ~Service() = default;

  virtual Task<Json> find(Params& params);
  virtual Task<Json> get(const Id& id, Params& params);
  virtual Task<Json> create(Json data, Params& params);
  virtual Task<Json> update(const NullableId& id, Json data, Params& params);
  virtual Task<Json> patch(const NullableId& id, Json data, Params& params);
  virtual Task<Json> remove(const NullableId& id, Params& params);
  // A custom method, called as (data, params). The default answers MethodNotAllowed.
  virtual Task<Json> call_custom(std::string_view method, Json data, Params& params);

  // The methods this service implements, used when ServiceOptions::methods is empty.
  // The default is the six standard methods.
  virtual std::vector<std::string> default_methods() const;

  // Called once when the service is registered (Feathers' setup(app, path)).
  virtual void setup(App& app, std::string_view path);

  // Emits a custom event (declared in ServiceOptions::events) to the app's listeners.
  void emit(std::string_view event, Json data);

  App* app() const noexcept { return app_; }
  const std::string& path() const noexcept { return path_; }

 private:
  friend class App;
  App* app_ = nullptr;
  std::string path_;
};

struct ServiceOptions {
  // Methods callable from outside (REST, sockets, mesh). Empty = Service::default_methods().
  // Custom method names are listed here too.
  std::vector<std::string> methods;
  // Custom events in addition to created/updated/patched/removed.
  std::vector<std::string> events;
};

// The standard method names, in Feathers' order.
inline constexpr std::string_view kStandardMethods[] = {"find", "get", "create", "update", "patch", "remove"};
bool is_standard_method(std::string_view method) noexcept;

}  // namespace plume
