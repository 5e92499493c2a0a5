#include <plume/auth/jwt.hpp>

#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <regex>

namespace plume::auth {
namespace {

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::int64_t kNow = 1'795'614'879;

// Made by jsonwebtoken 9 as Feathers' createAccessToken does, at iat = kNow:
// jwt.sign({}, secret, {header: {typ: 'access'}, audience: 'https://yourdomain.com',
//   issuer: 'feathers', algorithm: 'HS256', expiresIn: '1d', subject: '7', jwtid: '3e6a...'})
constexpr std::string_view kFeathersToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6ImFjY2VzcyJ9."
    "eyJpYXQiOjE3OTU2MTQ4NzksImV4cCI6MTc5NTcwMTI3OSwiYXVkIjoiaHR0cHM6Ly95b3VyZG9tYWluLmNvbSIsImlzcyI6ImZlYXRo"
    "ZXJzIiwic3"
    "ViIjoiNyIsImp0aSI6IjNlNmE3ZDRjLTFkMmItNGY3YS05YzFlLTViOGUyZjNhNGQ2YyJ9."
    "qzQwJ2knK7QeeqJnmWqrutDuQVC6OwN9LbzfNvoI6Lc";
// jwt.sign({sub: '7'}, secret, {algorithm: 'HS512'}): right secret, wrong algorithm.
constexpr std::string_view kHs512Token =
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI3IiwiaWF0IjoxNzk1NjE0ODc5fQ."
    "iEiIgM4th-cuxaEJ9LlNIprsk3FUVSkGr21KHA1Z-6L1aUpIYD1Vcw7Omd9L85ouYaJt4qwzjwsAfZj2W7-P_Q";

JwtOptions options() {
  JwtOptions jwt;
  jwt.secret = kSecret;
  return jwt;
}

Error verify_error(std::string_view token, const JwtOptions& jwt = options(), std::int64_t now = kNow + 10) {
  try {
    verify_access_token(jwt, token, now);
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "token was accepted: " << token;
  return general_error("accepted");
}

std::string part(std::string_view token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  const std::size_t end = token.find('.', start);
  return std::string(
      token.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

Json decoded_part(std::string_view token, int index) {
  std::string text;
  EXPECT_TRUE(base64url_decode(part(token, index), text));
  return parse_json(text);
}

TEST(Jwt, TokenHasFeathersHeaderAndClaimsInOrder) {
  const std::string token = create_access_token(options(), {}, "0", kNow);
  EXPECT_EQ(to_json_text(decoded_part(token, 0)), R"({"alg":"HS256","typ":"access"})");
  const JsonObject claims = decoded_part(token, 1).as_object();
  std::vector<std::string> keys;
  for (const auto& [key, value] : claims) keys.emplace_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"iat", "exp", "aud", "iss", "sub", "jti"}));
  EXPECT_EQ(claims.at("iat").as_int64(), kNow);
  EXPECT_EQ(claims.at("exp").as_int64(), kNow + 86'400);
  EXPECT_EQ(claims.at("aud").as_string(), "https://yourdomain.com");
  EXPECT_EQ(claims.at("iss").as_string(), "feathers");
  EXPECT_EQ(claims.at("sub").as_string(), "0");
  EXPECT_TRUE(
      std::regex_match(std::string(claims.at("jti").as_string()),
                       std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
}

TEST(Jwt, EachTokenGetsItsOwnJti) {
  const std::string a = create_access_token(options(), {}, "0", kNow);
  const std::string b = create_access_token(options(), {}, "0", kNow);
  EXPECT_NE(decoded_part(a, 1).at("jti"), decoded_part(b, 1).at("jti"));
}

TEST(Jwt, OwnTokenVerifiesAndReturnsItsPayload) {
  const std::string token = create_access_token(options(), {}, "42", kNow);
  const JsonObject payload = verify_access_token(options(), token, kNow + 60);
  EXPECT_EQ(payload.at("sub").as_string(), "42");
  EXPECT_EQ(Json(payload), decode_token_payload(token));
}

TEST(Jwt, TokenMadeByJsonwebtokenVerifiesAndOursIsByteCompatible) {
  const JsonObject payload = verify_access_token(options(), kFeathersToken, kNow + 10);
  EXPECT_EQ(payload.at("sub").as_string(), "7");
  EXPECT_EQ(payload.at("jti").as_string(), "3e6a7d4c-1d2b-4f7a-9c1e-5b8e2f3a4d6c");
  // Our header encodes exactly as jsonwebtoken encodes it.
  EXPECT_EQ(part(kFeathersToken, 0), base64url_encode(R"({"alg":"HS256","typ":"access"})"));
}

TEST(Jwt, ExpiredTokenIsTokenExpiredErrorWithExpiredAt) {
  const std::string token = create_access_token(options(), {}, "0", kNow);
  const Error error = verify_error(token, options(), kNow + 86'400);
  EXPECT_EQ(error.code(), ErrorCode::NotAuthenticated);
  EXPECT_EQ(error.message(), "jwt expired");
  EXPECT_EQ(error.data().at("name").as_string(), "TokenExpiredError");
  EXPECT_TRUE(error.data().as_object().contains("expiredAt"));
  EXPECT_NO_THROW(verify_access_token(options(), token, kNow + 86'399));
}

TEST(Jwt, TamperedPayloadOrWrongSecretIsInvalidSignature) {
  const std::string token = create_access_token(options(), {}, "1", kNow);
  const std::string forged_payload = base64url_encode(
      R"({"iat":1795614879,"exp":1795701279,"aud":"https://yourdomain.com","iss":"feathers","sub":"0"})");
  const std::string forged = part(token, 0) + "." + forged_payload + "." + part(token, 2);
  Error error = verify_error(forged);
  EXPECT_EQ(error.message(), "invalid signature");
  EXPECT_EQ(error.data(), (Json(JsonObject{{"name", "JsonWebTokenError"}})));

  JwtOptions other = options();
  other.secret = "another secret, just as long as the first one";
  EXPECT_EQ(verify_error(token, other).message(), "invalid signature");
}

TEST(Jwt, AlgNoneTokenIsRejected) {
  const std::string payload = part(create_access_token(options(), {}, "0", kNow), 1);
  const std::string unsigned_token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  EXPECT_EQ(verify_error(unsigned_token).message(), "jwt signature is required");
  // With something in the signature slot, the algorithm itself is refused.
  EXPECT_EQ(verify_error(unsigned_token + "c2ln").message(), "invalid algorithm");
}

TEST(Jwt, Hs512TokenSignedWithTheRightSecretIsInvalidAlgorithm) {
  const Error error = verify_error(kHs512Token);
  EXPECT_EQ(error.message(), "invalid algorithm");
  EXPECT_EQ(error.data().at("name").as_string(), "JsonWebTokenError");
}

TEST(Jwt, WrongAudienceOrIssuerNameTheExpectedValue) {
  JwtOptions issuer = options();
  issuer.issuer = "someone-else";
  const std::string token = create_access_token(issuer, {}, "0", kNow);
  EXPECT_EQ(verify_error(token).message(), "jwt issuer invalid. expected: feathers");

  JwtOptions audience = options();
  audience.audience = "https://other.example";
  EXPECT_EQ(verify_error(create_access_token(audience, {}, "0", kNow)).message(),
            "jwt audience invalid. expected: https://yourdomain.com");
}

TEST(Jwt, MalformedTokensGiveJsonwebtokenMessages) {
  EXPECT_EQ(verify_error("not-a-token").message(), "jwt malformed");
  EXPECT_EQ(verify_error("a.b").message(), "jwt malformed");
  EXPECT_EQ(verify_error("a.b.c.d").message(), "jwt malformed");
  EXPECT_EQ(verify_error("!!!.e30.c2ln").message(), "invalid token");
  EXPECT_EQ(verify_error(base64url_encode("[1]") + ".e30.c2ln").message(), "invalid token");
}

TEST(Jwt, Base64UrlRoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    std::string back;
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    ASSERT_TRUE(base64url_decode(encoded, back));
    EXPECT_EQ(back, bytes);
    bytes += static_cast<char>(0xf0 + i % 16);
  }
  std::string out;
  EXPECT_FALSE(base64url_decode("ab+c", out));
  EXPECT_FALSE(base64url_decode("abcde", out));
}

}  // namespace
}  // namespace plume::auth
