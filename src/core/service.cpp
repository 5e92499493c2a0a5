#include <plume/core/app.hpp>
#include <plume/core/error.hpp>
#include <plume/core/service.hpp>

#include <algorithm>

namespace plume {

namespace {

// Feathers' message for a method the service does not implement (packages/feathers/src/service.ts,
// answered 405 by the transports).
Error not_supported(std::string_view method) {
  std::string message = "Method `";
  message += method;
  message += "` is not supported by this endpoint.";
  return method_not_allowed(std::move(message));
}

}  // namespace

Task<Json> Service::find(Params&) { throw not_supported("find"); }

Task<Json> Service::get(const Id&, Params&) { throw not_supported("get"); }

Task<Json> Service::create(Json, Params&) { throw not_supported("create"); }

Task<Json> Service::update(const NullableId&, Json, Params&) { throw not_supported("update"); }

Task<Json> Service::patch(const NullableId&, Json, Params&) { throw not_supported("patch"); }

Task<Json> Service::remove(const NullableId&, Params&) { throw not_supported("remove"); }

Task<Json> Service::call_custom(std::string_view method, Json, Params&) { throw not_supported(method); }

std::vector<std::string> Service::default_methods() const {
  return {std::begin(kStandardMethods), std::end(kStandardMethods)};
}

void Service::setup(App&, std::string_view) {}

void Service::emit(std::string_view event, Json data) {
  if (app_ != nullptr) {
    app_->emit_event(path_, event, data, nullptr);
  }
}

bool is_standard_method(std::string_view method) noexcept {
  return std::find(std::begin(kStandardMethods), std::end(kStandardMethods), method) !=
         std::end(kStandardMethods);
}

}  // namespace plume
