#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

namespace plume {
namespace {

struct ExpectedClass {
  ErrorCode code;
  const char* name;
  const char* class_name;
};

// packages/errors/src/index.ts, plus Plume's 413 and 431.
const ExpectedClass kClasses[] = {
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
};

TEST(Error, EveryClassSerialisesToFeathersShapeWithoutDataOrErrors) {
  for (const auto& expected : kClasses) {
    const Error error(expected.code, "boom");
    const Json json = error.to_json();
    const JsonObject want{{"name", expected.name},
                          {"message", "boom"},
                          {"code", static_cast<int>(expected.code)},
                          {"className", expected.class_name}};
    EXPECT_EQ(json, Json(want)) << expected.name;
    EXPECT_EQ(error.status(), static_cast<int>(expected.code));
  }
}

TEST(Error, NotFoundMatchesCapturedFeathersBodyByteForByte) {
  EXPECT_EQ(
      to_json_text(not_found("No record found for id '999'").to_json()),
      R"({"name":"NotFound","message":"No record found for id '999'","code":404,"className":"not-found"})");
}

TEST(Error, DataAndErrorsAppearOnlyWhenSet) {
  Error error = bad_request("Invalid", JsonObject{{"field", "text"}});
  error.with_errors(JsonArray{"required"});
  EXPECT_EQ(to_json_text(error.to_json()),
            R"({"name":"BadRequest","message":"Invalid","code":400,"className":"bad-request",)"
            R"("data":{"field":"text"},"errors":["required"]})");
}

TEST(Error, ShortConstructorsPickTheirClass) {
  EXPECT_EQ(not_authenticated("x").code(), ErrorCode::NotAuthenticated);
  EXPECT_EQ(forbidden("x").code(), ErrorCode::Forbidden);
  EXPECT_EQ(method_not_allowed("x").code(), ErrorCode::MethodNotAllowed);
  EXPECT_EQ(timeout("x").code(), ErrorCode::Timeout);
  EXPECT_EQ(conflict("x").code(), ErrorCode::Conflict);
  EXPECT_EQ(unprocessable("x").code(), ErrorCode::Unprocessable);
  EXPECT_EQ(too_many_requests("x").code(), ErrorCode::TooManyRequests);
  EXPECT_EQ(general_error("x").code(), ErrorCode::GeneralError);
  EXPECT_EQ(not_implemented("x").code(), ErrorCode::NotImplemented);
  EXPECT_EQ(bad_gateway("x").code(), ErrorCode::BadGateway);
  EXPECT_EQ(unavailable("x").code(), ErrorCode::Unavailable);
  EXPECT_EQ(payload_too_large("x").name(), "PayloadTooLarge");
  EXPECT_EQ(header_fields_too_large("x").class_name(), "request-header-fields-too-large");
}

TEST(Error, FromJsonRebuildsClassByName) {
  const Error error = Error::from_json(parse_json(
      R"({"name":"Conflict","message":"taken","code":409,"className":"conflict","data":{"k":1},"errors":[2]})"));
  EXPECT_EQ(error.code(), ErrorCode::Conflict);
  EXPECT_EQ(error.message(), "taken");
  EXPECT_EQ(error.data(), Json(JsonObject{{"k", 1}}));
  EXPECT_EQ(error.errors(), Json(JsonArray{2}));
}

TEST(Error, FromJsonWithUnknownNameIsGeneralError) {
  const Error error = Error::from_json(parse_json(R"({"name":"Weird","message":"m","code":418})"));
  EXPECT_EQ(error.code(), ErrorCode::GeneralError);
  EXPECT_EQ(error.message(), "m");
}

TEST(Error, FromExceptionKeepsPlumeErrors) {
  const Error error =
      Error::from_exception(std::make_exception_ptr(not_found("gone", JsonObject{{"id", 7}})));
  EXPECT_EQ(error.code(), ErrorCode::NotFound);
  EXPECT_EQ(error.message(), "gone");
  EXPECT_EQ(error.data(), Json(JsonObject{{"id", 7}}));
}

TEST(Error, FromExceptionTurnsRuntimeErrorIntoGeneralErrorWithItsMessage) {
  const Error error = Error::from_exception(std::make_exception_ptr(std::runtime_error("disk full")));
  EXPECT_EQ(error.code(), ErrorCode::GeneralError);
  EXPECT_EQ(error.message(), "disk full");
  EXPECT_EQ(to_json_text(error.to_json()),
            R"({"name":"GeneralError","message":"disk full","code":500,"className":"general-error"})");
}

TEST(Error, FromExceptionHandlesBadAllocAndNonStandardThrows) {
  EXPECT_EQ(Error::from_exception(std::make_exception_ptr(std::bad_alloc())).code(), ErrorCode::GeneralError);
  EXPECT_EQ(Error::from_exception(std::make_exception_ptr(42)).code(), ErrorCode::GeneralError);
}

TEST(Error, StatusMapsToCodeOnlyForKnownClasses) {
  EXPECT_EQ(error_code_for_status(404), ErrorCode::NotFound);
  EXPECT_EQ(error_code_for_status(413), ErrorCode::PayloadTooLarge);
  EXPECT_EQ(error_code_for_status(418), std::nullopt);
  EXPECT_EQ(error_code_for_status(200), std::nullopt);
}

}  // namespace
}  // namespace plume
