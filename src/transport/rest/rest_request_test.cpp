#include "transport/rest/rest_request.hpp"

#include "transport/rest/rest_call.hpp"

#include <gtest/gtest.h>

namespace plume::transport {
namespace {

namespace http = net::http;

TEST(ParseAuthorization, BearerAndJwtSchemesInAnyCase) {
  Json expected = JsonObject{{"strategy", "jwt"}, {"accessToken", "t.o.k"}};
  EXPECT_EQ(parse_authorization("Bearer t.o.k"), expected);
  EXPECT_EQ(parse_authorization("bearer   t.o.k"), expected);
  EXPECT_EQ(parse_authorization("JWT t.o.k"), expected);
}

TEST(ParseAuthorization, BareTokenIsAcceptedOtherSchemesAreNot) {
  EXPECT_EQ(parse_authorization("t.o.k"), (JsonObject{{"strategy", "jwt"}, {"accessToken", "t.o.k"}}));
  EXPECT_TRUE(parse_authorization("Basic dXNlcjpwYXNz").is_null());
  EXPECT_TRUE(parse_authorization("").is_null());
}

TEST(RequestHeaders, NamesAreLowerCasedAndRepeatsJoined) {
  net::Request request{http::verb::get, "/", 11};
  request.insert("X-Trace-Id", "a");
  request.insert("Accept", "text/html");
  request.insert("accept", "application/json");
  auto headers = request_headers(request);
  EXPECT_EQ(headers.at("x-trace-id"), "a");
  EXPECT_EQ(headers.at("accept"), "text/html, application/json");
}

TEST(RequestBody, JsonFormAndOtherContentTypes) {
  net::Request request{http::verb::post, "/", 11};
  request.set(http::field::content_type, "application/json; charset=utf-8");
  request.body() = R"({"a":[1,2]})";
  EXPECT_EQ(request_body(request), (JsonObject{{"a", JsonArray{1, 2}}}));

  request.body() = "{oops";
  EXPECT_THROW(request_body(request), Error);

  request.set(http::field::content_type, "application/x-www-form-urlencoded");
  request.body() = "a[b]=1&c=x";
  EXPECT_EQ(request_body(request), (JsonObject{{"a", JsonObject{{"b", "1"}}}, {"c", "x"}}));

  request.set(http::field::content_type, "text/plain");
  request.body() = "hello";
  EXPECT_EQ(request_body(request), JsonObject{});
}

TEST(ServiceMethodFor, VerbsMapAsFeathersRestDoes) {
  net::Request request{http::verb::get, "/", 11};
  EXPECT_EQ(service_method_for(request, false), "find");
  EXPECT_EQ(service_method_for(request, true), "get");
  request.method(http::verb::head);
  EXPECT_EQ(service_method_for(request, true), "get");
  request.method(http::verb::post);
  EXPECT_EQ(service_method_for(request, false), "create");
  request.set("X-Service-Method", "shout");
  EXPECT_EQ(service_method_for(request, false), "shout");
  request.method(http::verb::put);
  EXPECT_EQ(service_method_for(request, true), "update");  // the header counts only on POST
  request.method(http::verb::patch);
  EXPECT_EQ(service_method_for(request, false), "patch");
  request.method(http::verb::delete_);
  EXPECT_EQ(service_method_for(request, false), "remove");
  request.method(http::verb::options);
  try {
    service_method_for(request, false);
    FAIL() << "OPTIONS must be refused";
  } catch (const Error& error) {
    EXPECT_EQ(error.status(), 405);
    EXPECT_EQ(error.message(), "Method OPTIONS not allowed");
  }
}

TEST(IsFalsy, MatchesJavaScriptFalsinessForJsonValues) {
  EXPECT_TRUE(is_falsy(nullptr));
  EXPECT_TRUE(is_falsy(false));
  EXPECT_TRUE(is_falsy(0));
  EXPECT_TRUE(is_falsy(0.0));
  EXPECT_TRUE(is_falsy(""));
  EXPECT_FALSE(is_falsy(JsonArray{}));
  EXPECT_FALSE(is_falsy(JsonObject{}));
  EXPECT_FALSE(is_falsy("0"));
  EXPECT_FALSE(is_falsy(1));
}

}  // namespace
}  // namespace plume::transport
