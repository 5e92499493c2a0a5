#include "mesh/announcement.hpp"

#include <plume/core/json.hpp>

#include <gtest/gtest.h>

namespace plume::mesh {
namespace {

constexpr std::string_view kSecret = "cluster secret";

Announcement sample() {
  Announcement a;
  a.node = "api-1";
  a.instance = random_hex();
  a.address = "10.0.0.7:3030";
  a.seq = 42;
  return a;
}

std::string with_field(const std::string& packet, std::string_view key, Json value) {
  Json parsed = parse_json(packet);
  parsed.as_object()[key] = std::move(value);
  return to_json_text(parsed);
}

TEST(Announcement, RoundTripsEveryField) {
  Announcement original = sample();
  original.goodbye = true;
  const auto decoded = decode_announcement(encode_announcement(original, kSecret), kSecret);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->version, kProtocolVersion);
  EXPECT_EQ(decoded->node, original.node);
  EXPECT_EQ(decoded->instance, original.instance);
  EXPECT_EQ(decoded->address, original.address);
  EXPECT_EQ(decoded->seq, 42u);
  EXPECT_TRUE(decoded->goodbye);
}

TEST(Announcement, WrongSecretFailsVerification) {
  const std::string packet = encode_announcement(sample(), kSecret);
  EXPECT_FALSE(decode_announcement(packet, "another secret").has_value());
  EXPECT_FALSE(decode_announcement(packet, "").has_value());
}

TEST(Announcement, EveryTamperedFieldFailsVerification) {
  const std::string packet = encode_announcement(sample(), kSecret);
  ASSERT_TRUE(decode_announcement(packet, kSecret).has_value());
  EXPECT_FALSE(decode_announcement(with_field(packet, "node", "intruder"), kSecret));
  EXPECT_FALSE(decode_announcement(with_field(packet, "instance", Json(random_hex().c_str())), kSecret));
  EXPECT_FALSE(decode_announcement(with_field(packet, "address", "6.6.6.6:3030"), kSecret));
  EXPECT_FALSE(decode_announcement(with_field(packet, "seq", 43), kSecret));
  EXPECT_FALSE(decode_announcement(with_field(packet, "bye", true), kSecret));
  EXPECT_FALSE(decode_announcement(with_field(packet, "mac", Json(std::string(64, '0').c_str())), kSecret));
}

TEST(Announcement, OtherProtocolVersionIsDropped) {
  Announcement future = sample();
  future.version = kProtocolVersion + 1;
  EXPECT_FALSE(decode_announcement(encode_announcement(future, kSecret), kSecret).has_value());
}

TEST(Announcement, MalformedPacketsAreDropped) {
  const std::string packet = encode_announcement(sample(), kSecret);
  EXPECT_FALSE(decode_announcement("", kSecret));
  EXPECT_FALSE(decode_announcement("not json", kSecret));
  EXPECT_FALSE(decode_announcement("[1,2,3]", kSecret));
  EXPECT_FALSE(decode_announcement(packet.substr(0, packet.size() / 2), kSecret));
  EXPECT_FALSE(decode_announcement(with_field(packet, "seq", "42"), kSecret));
  Json missing = parse_json(packet);
  missing.as_object().erase("mac");
  EXPECT_FALSE(decode_announcement(to_json_text(missing), kSecret));
}

TEST(Announcement, MacIsHmacSha256OfTheCanonicalText) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
}

TEST(Announcement, InstanceIdsAreRandom128BitHex) {
  const std::string a = random_hex();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, random_hex());
}

}  // namespace
}  // namespace plume::mesh
