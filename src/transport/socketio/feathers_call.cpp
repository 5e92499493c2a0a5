#include "transport/socketio/feathers_call.hpp"

#include "transport/admin_access.hpp"

#include <plume/core/error.hpp>
#include <plume/core/hooks.hpp>

namespace plume::transport::socketio {
namespace {

NullableId id_argument(const JsonArray& args, std::size_t index) {
  if (index >= args.size() || args[index].is_null()) return std::nullopt;
  return Id::from_json(args[index]);
}

// Data arguments the client left out arrive as {} (what Express' body parser leaves REST with).
Json data_argument(const JsonArray& args, std::size_t index) {
  if (index >= args.size()) return JsonObject{};
  return args[index];
}

}  // namespace

std::size_t params_position(std::string_view method) noexcept {
  if (method == "find") return 0;
  if (method == "update" || method == "patch") return 2;
  return 1;
}

Task<Json> run_socket_method(App& app, const std::shared_ptr<Connection>& connection,
                             std::string_view address, std::string_view method, const Json& path_argument,
                             const JsonArray& args) {
  if (!path_argument.is_string()) throw not_found("Invalid service path");
  std::string path(path_argument.get_string());
  auto match = app.lookup(path);
  if (match && is_admin_path("/" + match->entry->path())) {
    throw forbidden("Service '" + path + "' is served on the admin listener or with the admin token only");
  }
  // A socket names the service itself ("users/1/messages"), never an id after it.
  if (!match || match->id) throw not_found("Service '" + path + "' not found");
  ServiceEntry& entry = *match->entry;
  if (!entry.exposes(method)) {
    throw method_not_allowed("Method '" + std::string(method) + "' not allowed on service '" + path + "'");
  }
  std::size_t position = params_position(method);
  if (args.size() > position + 1) {
    throw bad_request("Too many arguments for '" + std::string(method) + "' method");
  }

  HookContext context = app.context_for(entry, method);
  if (method == "get" || method == "remove" || method == "update" || method == "patch") {
    context.id = id_argument(args, 0);
  }
  if (method == "update" || method == "patch") {
    context.data = data_argument(args, 1);
  } else if (method != "find" && method != "get" && method != "remove") {
    context.data = data_argument(args, 0);
  }

  Params& params = context.params;
  // Object.assign({}, arg): the query keeps its JSON types; anything but an object gives {}.
  if (position < args.size() && args[position].is_object()) params.query = args[position];
  params.provider = connection->provider();
  params.route = std::move(match->route);
  params.headers = connection->headers();
  params.authentication = connection->authentication();
  params.user = connection->user();
  params.connection = connection;
  params.extra["ip"] = std::string(address);

  co_await app.run(context);
  co_return context.reply();
}

}  // namespace plume::transport::socketio
