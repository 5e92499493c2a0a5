#include <plume/core/digest.hpp>

#include <gtest/gtest.h>

TEST(Digest, Sha256OfTheEmptyStringAndOfAbcAreTheKnownValues) {
  EXPECT_EQ(plume::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(plume::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(plume::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, HexIsLowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(plume::to_hex(std::string_view("\x00\x0f\xa0\xff", 4)), "000fa0ff");
}

TEST(Digest, ConstantTimeComparisonComparesContentAndSize) {
  EXPECT_TRUE(plume::equal_constant_time("abc", "abc"));
  EXPECT_FALSE(plume::equal_constant_time("abc", "abd"));
  EXPECT_FALSE(plume::equal_constant_time("abc", "abcd"));
}

TEST(Digest, RandomHexIs32DigitsAndDiffersEachTime) {
  const auto a = plume::random_hex();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, plume::random_hex());
}
