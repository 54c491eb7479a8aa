#define CAF_SUITE totp
#include <caf/test/unit_test.hpp>

#include "actors/accounts/totp.hpp"

#include <cstdint>
#include <string>

using namespace bookstore;

namespace {

const std::string sha1_key = "12345678901234567890";
const std::string sha256_key = "12345678901234567890123456789012";
const std::string sha512_key = "1234567890123456789012345678901234567890123456789012345678901234";

// A moment in the middle of a 30-second step.
constexpr int64_t now = 1'800'000'015;
constexpr int64_t step = now / 30;

} // namespace

CAF_TEST(all RFC 6238 test vectors match) {
  struct row {
    int64_t t;
    const char* sha1;
    const char* sha256;
    const char* sha512;
  };
  // RFC 6238, Appendix B.
  const row rows[] = {
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  };
  for (auto& r : rows) {
    CAF_MESSAGE("T = " << r.t);
    CAF_CHECK_EQUAL(totp::code(sha1_key, r.t, 8, "sha1"), r.sha1);
    CAF_CHECK_EQUAL(totp::code(sha256_key, r.t, 8, "sha256"), r.sha256);
    CAF_CHECK_EQUAL(totp::code(sha512_key, r.t, 8, "sha512"), r.sha512);
  }
}

CAF_TEST(the default code is six digits of SHA1) {
  auto six = totp::code(sha1_key, 59);
  CAF_CHECK_EQUAL(six, "287082"); // the last six digits of the 8-digit vector
}

CAF_TEST(the current code and one step either way are accepted) {
  auto current = totp::accept(sha1_key, totp::code(sha1_key, now), now, 0);
  CAF_CHECK_EQUAL(current.value_or(-1), step);
  auto before = totp::accept(sha1_key, totp::code(sha1_key, now - 30), now, 0);
  CAF_CHECK_EQUAL(before.value_or(-1), step - 1);
  auto after = totp::accept(sha1_key, totp::code(sha1_key, now + 30), now, 0);
  CAF_CHECK_EQUAL(after.value_or(-1), step + 1);
}

CAF_TEST(codes two steps away are refused) {
  auto old = totp::accept(sha1_key, totp::code(sha1_key, now - 60), now, 0);
  CAF_CHECK(!old.has_value());
  auto early = totp::accept(sha1_key, totp::code(sha1_key, now + 60), now, 0);
  CAF_CHECK(!early.has_value());
}

CAF_TEST(a code from another secret is refused) {
  auto other = totp::accept("abcdefghijabcdefghij", totp::code(sha1_key, now), now, 0);
  CAF_CHECK(!other.has_value());
}

CAF_TEST(a code is accepted only once) {
  auto c = totp::code(sha1_key, now);
  auto first = totp::accept(sha1_key, c, now, step - 5);
  CAF_REQUIRE(first.has_value());
  auto replay = totp::accept(sha1_key, c, now, *first);
  CAF_CHECK(!replay.has_value());
  // Nor an older code still inside the window once a newer one was used.
  auto older = totp::accept(sha1_key, totp::code(sha1_key, now - 30), now, *first);
  CAF_CHECK(!older.has_value());
  // The next step's code is still good.
  auto next = totp::accept(sha1_key, totp::code(sha1_key, now + 30), now, *first);
  CAF_CHECK_EQUAL(next.value_or(-1), step + 1);
}

CAF_TEST(malformed codes are refused) {
  auto good = totp::code(sha1_key, now);
  CAF_REQUIRE_EQUAL(good.size(), 6u);
  for (std::string bad :
       {std::string{}, good.substr(0, 5), good + "0", " " + good.substr(1), good.substr(0, 5) + "a",
        std::string{"12345\xff"}, std::string{"12-456"}, totp::code(sha1_key, now, 8)})
    CAF_CHECK(!totp::accept(sha1_key, bad, now, 0).has_value());
}

CAF_TEST(base32 matches RFC 4648) {
  CAF_CHECK_EQUAL(totp::base32(sha1_key), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  CAF_CHECK_EQUAL(totp::base32("f"), "MY"); // padding dropped
  CAF_CHECK_EQUAL(totp::base32("foobar"), "MZXW6YTBOI");
}

CAF_TEST(the otpauth uri carries the secret for authenticator apps) {
  auto uri = totp::uri("Book Store", "alice@example.com", sha1_key);
  CAF_MESSAGE(uri);
  CAF_CHECK_EQUAL(uri.rfind("otpauth://totp/", 0), 0u);
  CAF_CHECK_NOT_EQUAL(uri.find("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(uri.find("Book%20Store:alice@example.com?"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(uri.find("issuer=Book%20Store"), std::string::npos);
  CAF_CHECK_EQUAL(uri.find(' '), std::string::npos);
}

CAF_TEST(new secrets are 20 random bytes) {
  auto a = totp::new_secret();
  auto b = totp::new_secret();
  CAF_CHECK_EQUAL(a.size(), 20u);
  CAF_CHECK_NOT_EQUAL(a, b);
  auto c = totp::accept(a, totp::code(a, now), now, 0);
  CAF_CHECK_EQUAL(c.value_or(-1), step);
}
