// Feathers' authenticate(...strategies) hook (packages/authentication/src/hooks/authenticate.ts).
#include <plume/auth/authentication.hpp>

#include <plume/core/error.hpp>

namespace plume::auth {

Hook authenticate(std::vector<std::string> strategies, std::string service_path) {
  return [strategies = std::move(strategies),
          service_path = std::move(service_path)](HookContext& context) -> Task<void> {
    if (context.type != HookType::Before && context.type != HookType::Around) {
      throw not_authenticated("The authenticate hook must be used as a before hook");
    }
    AuthenticationService* service = find_authentication(context.app, service_path);
    if (service == nullptr) throw not_authenticated("Could not find a valid authentication service");
    if (&context.service == service) {
      throw not_authenticated("The authenticate hook does not need to be used on the authentication service");
    }
    Params& params = context.params;
    if (params.authenticated) co_return;
    if (!params.authentication.is_null()) {
      // The strategy runs as an internal caller: the entity is loaded once, without the
      // entity service's external hooks.
      Params internal = params;
      internal.provider.clear();
      internal.authentication = nullptr;
      Json result = co_await service->authenticate(params.authentication, internal, strategies);
      JsonObject& fields = result.as_object();
      if (const auto& entity = service->options().entity) {
        if (Json* user = fields.if_contains(*entity)) params.user = std::move(*user);
      }
      if (Json* authentication = fields.if_contains("authentication")) {
        params.authentication = std::move(*authentication);
      }
      params.authenticated = true;
    } else if (params.is_external()) {
      throw not_authenticated("Not authenticated");
    }
  };
}

}  // namespace plume::auth
