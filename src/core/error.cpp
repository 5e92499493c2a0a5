#include <plume/core/error.hpp>

#include <array>
#include <new>
#include <utility>

namespace plume {

namespace {

struct ErrorClass {
  ErrorCode code;
  std::string_view name;
  std::string_view class_name;
};

// Feathers' classes (packages/errors/src/index.ts). 413 and 431 have no Feathers class: they are
// answered in the same shape with the names below.
constexpr std::array<ErrorClass, 19> kErrorClasses{{
    {ErrorCode::BadRequest, "BadRequest", "bad-request"},
    {ErrorCode::NotAuthenticated, "NotAuthenticated", "not-authenticated"},
    {ErrorCode::PaymentError, "PaymentError", "payment-error"},
    {ErrorCode::Forbidden, "Forbidden", "forbidden"},
    {ErrorCode::NotFound, "NotFound", "not-found"},
    {ErrorCode::MethodNotAllowed, "MethodNotAllowed", "method-not-allowed"},
    {ErrorCode::NotAcceptable, "NotAcceptable", "not-acceptable"},
    {ErrorCode::Timeout, "Timeout", "timeout"},
    {ErrorCode::Conflict, "Conflict", "conflict"},
    {ErrorCode::Gone, "Gone", "gone"},
    {ErrorCode::LengthRequired, "LengthRequired", "length-required"},
    {ErrorCode::PayloadTooLarge, "PayloadTooLarge", "payload-too-large"},
    {ErrorCode::Unprocessable, "Unprocessable", "unprocessable"},
    {ErrorCode::HeaderFieldsTooLarge, "RequestHeaderFieldsTooLarge", "request-header-fields-too-large"},
    {ErrorCode::TooManyRequests, "TooManyRequests", "too-many-requests"},
    {ErrorCode::GeneralError, "GeneralError", "general-error"},
    {ErrorCode::NotImplemented, "NotImplemented", "not-implemented"},
    {ErrorCode::BadGateway, "BadGateway", "bad-gateway"},
    {ErrorCode::Unavailable, "Unavailable", "unavailable"},
}};

constexpr ErrorClass kGeneralError{ErrorCode::GeneralError, "GeneralError", "general-error"};

const ErrorClass& class_of(ErrorCode code) noexcept {
  for (const auto& entry : kErrorClasses) {
    if (entry.code == code) return entry;
  }
  return kGeneralError;  // codes cast from integers outside the enum
}

}  // namespace

Error::Error(ErrorCode code, std::string message, Json data)
    : code_(code), message_(std::move(message)), data_(std::move(data)), errors_(nullptr) {}

std::string_view Error::name() const noexcept { return class_of(code_).name; }

std::string_view Error::class_name() const noexcept { return class_of(code_).class_name; }

Error& Error::with_errors(Json errors) {
  errors_ = std::move(errors);
  return *this;
}

Json Error::to_json() const {
  // Feathers' FeathersError#toJSON: data and errors only when defined.
  JsonObject out;
  out.reserve(6);
  out["name"] = name();
  out["message"] = message_;
  out["code"] = status();
  out["className"] = class_name();
  if (!data_.is_null()) out["data"] = data_;
  if (!errors_.is_null()) out["errors"] = errors_;
  return out;
}

Error Error::from_json(const Json& json) {
  const auto* object = json.if_object();
  if (object == nullptr) {
    return Error(ErrorCode::GeneralError, json.is_string() ? std::string(json.get_string()) : "Error");
  }
  std::string message = "Error";
  if (const auto* m = object->if_contains("message"); m != nullptr && m->is_string()) {
    message = std::string(m->get_string());
  }
  // As the Feathers client's convert(): the class comes from the name, unknown names are
  // general errors.
  ErrorCode code = ErrorCode::GeneralError;
  if (const auto* n = object->if_contains("name"); n != nullptr && n->is_string()) {
    const std::string_view name = n->get_string();
    for (const auto& entry : kErrorClasses) {
      if (entry.name == name) {
        code = entry.code;
        break;
      }
    }
  }
  Json data = nullptr;
  if (const auto* d = object->if_contains("data")) data = *d;
  Error error(code, std::move(message), std::move(data));
  if (const auto* e = object->if_contains("errors")) error.with_errors(*e);
  return error;
}

Error Error::from_exception(std::exception_ptr error) {
  if (!error) {
    return Error(ErrorCode::GeneralError, "Unknown error");
  }
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    // Feathers' error handler turns any other error into a GeneralError with its message.
    return Error(ErrorCode::GeneralError, e.what());
  } catch (...) {
    return Error(ErrorCode::GeneralError, "Unknown error");
  }
}

Error bad_request(std::string message, Json data) {
  return Error(ErrorCode::BadRequest, std::move(message), std::move(data));
}
Error not_authenticated(std::string message, Json data) {
  return Error(ErrorCode::NotAuthenticated, std::move(message), std::move(data));
}
Error forbidden(std::string message, Json data) {
  return Error(ErrorCode::Forbidden, std::move(message), std::move(data));
}
Error not_found(std::string message, Json data) {
  return Error(ErrorCode::NotFound, std::move(message), std::move(data));
}
Error method_not_allowed(std::string message, Json data) {
  return Error(ErrorCode::MethodNotAllowed, std::move(message), std::move(data));
}
Error timeout(std::string message, Json data) {
  return Error(ErrorCode::Timeout, std::move(message), std::move(data));
}
Error conflict(std::string message, Json data) {
  return Error(ErrorCode::Conflict, std::move(message), std::move(data));
}
Error unprocessable(std::string message, Json data) {
  return Error(ErrorCode::Unprocessable, std::move(message), std::move(data));
}
Error too_many_requests(std::string message, Json data) {
  return Error(ErrorCode::TooManyRequests, std::move(message), std::move(data));
}
Error general_error(std::string message, Json data) {
  return Error(ErrorCode::GeneralError, std::move(message), std::move(data));
}
Error not_implemented(std::string message, Json data) {
  return Error(ErrorCode::NotImplemented, std::move(message), std::move(data));
}
Error bad_gateway(std::string message, Json data) {
  return Error(ErrorCode::BadGateway, std::move(message), std::move(data));
}
Error unavailable(std::string message, Json data) {
  return Error(ErrorCode::Unavailable, std::move(message), std::move(data));
}
Error payment_error(std::string message, Json data) {
  return Error(ErrorCode::PaymentError, std::move(message), std::move(data));
}
Error not_acceptable(std::string message, Json data) {
  return Error(ErrorCode::NotAcceptable, std::move(message), std::move(data));
}
Error gone(std::string message, Json data) {
  return Error(ErrorCode::Gone, std::move(message), std::move(data));
}
Error length_required(std::string message, Json data) {
  return Error(ErrorCode::LengthRequired, std::move(message), std::move(data));
}
Error payload_too_large(std::string message, Json data) {
  return Error(ErrorCode::PayloadTooLarge, std::move(message), std::move(data));
}
Error header_fields_too_large(std::string message, Json data) {
  return Error(ErrorCode::HeaderFieldsTooLarge, std::move(message), std::move(data));
}

std::optional<ErrorCode> error_code_for_status(int status) {
  for (const auto& entry : kErrorClasses) {
    if (static_cast<int>(entry.code) == status) return entry.code;
  }
  return std::nullopt;
}

}  // namespace plume
