// Feathers errors: every error that crosses a service boundary is a plume::Error with a
// Feathers class (name, className, code) and serialises to Feathers' JSON shape
// {name, message, code, className, data?, errors?}.
#pragma once

#include <plume/core/json.hpp>

#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace plume {

enum class ErrorCode : int {
  BadRequest = 400,
  NotAuthenticated = 401,
  PaymentError = 402,
  Forbidden = 403,
  NotFound = 404,
  MethodNotAllowed = 405,
  NotAcceptable = 406,
  Timeout = 408,
  Conflict = 409,
  Gone = 410,
  LengthRequired = 411,
  PayloadTooLarge =
      413,  // not a Feathers class; answered as GeneralError-shaped JSON with name "PayloadTooLarge"
  Unprocessable = 422,
  HeaderFieldsTooLarge = 431,  // likewise, for oversized request headers
  TooManyRequests = 429,
  GeneralError = 500,
  NotImplemented = 501,
  BadGateway = 502,
  Unavailable = 503,
};

class Error : public std::exception {
 public:
  Error(ErrorCode code, std::string message, Json data = nullptr);

  ErrorCode code() const noexcept { return code_; }
  int status() const noexcept { return static_cast<int>(code_); }
  // Feathers' class name, e.g. "NotFound", and its className, e.g. "not-found".
  std::string_view name() const noexcept;
  std::string_view class_name() const noexcept;
  const std::string& message() const noexcept { return message_; }
  const Json& data() const noexcept { return data_; }
  const Json& errors() const noexcept { return errors_; }
  Error& with_errors(Json errors);

  const char* what() const noexcept override { return message_.c_str(); }

  // {name, message, code, className, data?, errors?}
  Json to_json() const;
  // Rebuilds an error from its JSON shape (remote replies); unknown names become GeneralError.
  static Error from_json(const Json& json);
  // Any exception as a Feathers error: plume::Error as is, anything else as GeneralError with
  // its message (as Feathers' error handler does).
  static Error from_exception(std::exception_ptr error);

 private:
  ErrorCode code_;
  std::string message_;
  Json data_;
  Json errors_;
};

// Short constructors, one per class: throw plume::not_found("No record found for id '7'").
Error bad_request(std::string message, Json data = nullptr);
Error not_authenticated(std::string message, Json data = nullptr);
Error forbidden(std::string message, Json data = nullptr);
Error not_found(std::string message, Json data = nullptr);
Error method_not_allowed(std::string message, Json data = nullptr);
Error timeout(std::string message, Json data = nullptr);
Error conflict(std::string message, Json data = nullptr);
Error unprocessable(std::string message, Json data = nullptr);
Error too_many_requests(std::string message, Json data = nullptr);
Error general_error(std::string message, Json data = nullptr);
Error not_implemented(std::string message, Json data = nullptr);
Error bad_gateway(std::string message, Json data = nullptr);
Error unavailable(std::string message, Json data = nullptr);
Error payment_error(std::string message, Json data = nullptr);
Error not_acceptable(std::string message, Json data = nullptr);
Error gone(std::string message, Json data = nullptr);
Error length_required(std::string message, Json data = nullptr);
// 413 and 431 (no Feathers class): {"name": "PayloadTooLarge"} / {"name": "RequestHeaderFieldsTooLarge"}.
Error payload_too_large(std::string message, Json data = nullptr);
Error header_fields_too_large(std::string message, Json data = nullptr);

// The ErrorCode for an HTTP status, if Feathers (or Plume, for 413 and 431) has a class for it.
std::optional<ErrorCode> error_code_for_status(int status);

}  // namespace plume
