#define CAF_SUITE password
#include <caf/test/unit_test.hpp>

#include "actors/accounts/password.hpp"
#include "actors/common/crypto.hpp"

#include <string>

using namespace bookstore;

namespace {

// The lowest bcrypt cost keeps the suite fast; the format and the checks are the same.
constexpr unsigned cost = 4;

const std::string key = std::string(32, '\x42');

} // namespace

CAF_TEST(a hashed password verifies and a wrong one does not ) {
  auto h = password::hash("correct horse battery staple", cost);
  CAF_REQUIRE(h.has_value());
  std::string stored = *h;
  CAF_CHECK_EQUAL(stored.rfind("$2b$04$", 0), 0u);
  CAF_CHECK_EQUAL(stored.size(), 60u);
  CAF_CHECK(password::verify("correct horse battery staple", stored));
  CAF_CHECK(!password::verify("correct horse battery stapl", stored));
  CAF_CHECK(!password::verify("Correct horse battery staple", stored));
  CAF_CHECK(!password::verify("", stored));
}

CAF_TEST(the same password hashes differently each time) {
  auto a = password::hash("hunter2hunter2", cost);
  auto b = password::hash("hunter2hunter2", cost);
  CAF_REQUIRE(a.has_value() && b.has_value());
  std::string first = *a;
  std::string second = *b;
  CAF_CHECK_NOT_EQUAL(first, second); // salted
  CAF_CHECK(password::verify("hunter2hunter2", first));
  CAF_CHECK(password::verify("hunter2hunter2", second));
}

CAF_TEST(every byte past the 72nd still counts) {
  std::string common(72, 'p');
  auto h = password::hash(common + "-one", cost);
  CAF_REQUIRE(h.has_value());
  std::string stored = *h;
  CAF_CHECK(password::verify(common + "-one", stored));
  CAF_CHECK(!password::verify(common + "-two", stored));
  CAF_CHECK(!password::verify(common, stored));
}

CAF_TEST(a password of 128 characters works) {
  std::string long_pw;
  for (int i = 0; i < 128; ++i) long_pw.push_back(static_cast<char>('!' + i % 90));
  CAF_REQUIRE_EQUAL(long_pw.size(), 128u);
  auto h = password::hash(long_pw, cost);
  CAF_REQUIRE(h.has_value());
  std::string stored = *h;
  CAF_CHECK(password::verify(long_pw, stored));
  auto changed = long_pw;
  changed.back() = '~';
  CAF_CHECK(!password::verify(changed, stored));
}

CAF_TEST(passwords with bytes bcrypt would stop at still work) {
  std::string with_nul{"abc\0def", 7};
  auto h = password::hash(with_nul, cost);
  CAF_REQUIRE(h.has_value());
  std::string stored = *h;
  CAF_CHECK(password::verify(with_nul, stored));
  CAF_CHECK(!password::verify("abc", stored));
}

CAF_TEST(a stored value that is not a bcrypt hash never verifies) {
  CAF_CHECK(!password::verify("x", ""));
  CAF_CHECK(!password::verify("x", "x"));
  CAF_CHECK(!password::verify("x", "$1$abc$def"));
  CAF_CHECK(!password::verify("x", "$2b$04$"));
}

CAF_TEST(sealed secrets open with the same key and aad) {
  std::string secret = "12345678901234567890";
  auto blob = crypto::seal(key, secret, "usr_alice");
  CAF_CHECK_EQUAL(blob.size(), 12u + secret.size() + 16u);
  CAF_CHECK_EQUAL(blob.find(secret), std::string::npos); // not in the clear
  auto opened = crypto::open(key, blob, "usr_alice");
  CAF_REQUIRE(opened.has_value());
  std::string plain = *opened;
  CAF_CHECK_EQUAL(plain, secret);
  auto again = crypto::seal(key, secret, "usr_alice");
  CAF_CHECK_NOT_EQUAL(again, blob); // a fresh IV each time
  auto empty = crypto::seal(key, "", "usr_alice");
  CAF_CHECK_EQUAL(empty.size(), 28u);
  auto opened_empty = crypto::open(key, empty, "usr_alice");
  CAF_CHECK(opened_empty.has_value());
}

CAF_TEST(a sealed secret that was altered or moved is refused) {
  auto blob = crypto::seal(key, "12345678901234567890", "usr_alice");
  for (size_t i : {size_t{0}, size_t{12}, blob.size() - 1}) { // iv, ciphertext, tag
    auto flipped = blob;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    CAF_CHECK(!crypto::open(key, flipped, "usr_alice").has_value());
  }
  CAF_CHECK(!crypto::open(key, blob, "usr_mallory").has_value()); // another user's row
  CAF_CHECK(!crypto::open(std::string(32, '\x43'), blob, "usr_alice").has_value());
  CAF_CHECK(!crypto::open(key, blob.substr(0, blob.size() - 1), "usr_alice").has_value());
  CAF_CHECK(!crypto::open(key, blob.substr(0, 27), "usr_alice").has_value());
  CAF_CHECK(!crypto::open(key.substr(0, 16), blob, "usr_alice").has_value());
}

CAF_TEST(sha256 and hex helpers give the known values) {
  CAF_CHECK_EQUAL(crypto::sha256_hex("abc"),
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CAF_CHECK_EQUAL(crypto::sha256_hex(""),
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CAF_CHECK_EQUAL(crypto::hex(std::string{"\x00\xff\x10", 3}), "00ff10");
  auto bytes = crypto::unhex("00fF10");
  CAF_REQUIRE(bytes.has_value());
  std::string got = *bytes;
  CAF_CHECK_EQUAL(got, (std::string{"\x00\xff\x10", 3}));
  CAF_CHECK(!crypto::unhex("abc").has_value()); // odd length
  CAF_CHECK(!crypto::unhex("zz").has_value());  // not hex
  CAF_CHECK(!crypto::unhex("0g").has_value());
  CAF_CHECK(!crypto::unhex(" 0").has_value());
  auto none = crypto::unhex("");
  CAF_CHECK(none.has_value() && none->empty());
}

CAF_TEST(random tokens are url safe and differ) {
  auto a = crypto::random_token(32);
  auto b = crypto::random_token(32);
  CAF_CHECK_EQUAL(a.size(), 43u); // 32 bytes, base64url without padding
  CAF_CHECK_NOT_EQUAL(a, b);
  CAF_CHECK_EQUAL(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
                  std::string::npos);
  CAF_CHECK(crypto::equal("abc", "abc"));
  CAF_CHECK(!crypto::equal("abc", "abd"));
  CAF_CHECK(!crypto::equal("abc", "abcd"));
}
