#include "transport/cors.hpp"

#include <gtest/gtest.h>

namespace plume::transport {
namespace {

namespace http = net::http;

net::Request request_from(std::string_view origin, http::verb verb = http::verb::get) {
  net::Request request{verb, "/messages", 11};
  if (!origin.empty()) request.set(http::field::origin, origin);
  return request;
}

TEST(Cors, WildcardEchoesTheOriginWithoutCredentials) {
  Cors cors(CorsOptions{});
  http::fields headers;
  cors.apply(request_from("http://a.example"), headers);
  EXPECT_EQ(headers[http::field::access_control_allow_origin], "http://a.example");
  EXPECT_EQ(headers[http::field::vary], "Origin");
  EXPECT_EQ(headers.count(http::field::access_control_allow_credentials), 0u);
}

TEST(Cors, ListedOriginGetsCredentialsUnlistedGetsNothing) {
  Cors cors(CorsOptions{.enabled = true, .origins = {"https://b.example"}});
  http::fields listed;
  cors.apply(request_from("https://b.example"), listed);
  EXPECT_EQ(listed[http::field::access_control_allow_credentials], "true");
  http::fields other;
  cors.apply(request_from("https://c.example"), other);
  EXPECT_EQ(other.count(http::field::access_control_allow_origin), 0u);
}

TEST(Cors, PreflightOnlyWhenEnabled) {
  auto options = request_from("http://a.example", http::verb::options);
  EXPECT_TRUE(Cors(CorsOptions{}).is_preflight(options));
  EXPECT_FALSE(Cors(CorsOptions{.enabled = false}).is_preflight(options));
  EXPECT_FALSE(Cors(CorsOptions{}).is_preflight(request_from("http://a.example")));
}

}  // namespace
}  // namespace plume::transport
