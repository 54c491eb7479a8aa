#define CAF_SUITE jwt
#include <caf/test/unit_test.hpp>

#include "gateway/auth/jwt.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

using namespace bookstore::auth;
using json = nlohmann::json;

namespace {

const std::string secret = "unit-test-secret-0123456789abcdef";
constexpr int64_t now = 1'800'000'000;

std::string b64url(const std::string& bytes) {
  std::string s(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  s.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(s.data()),
                                               reinterpret_cast<const unsigned char*>(bytes.data()),
                                               static_cast<int>(bytes.size()))));
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string hmac(const EVP_MD* md, const std::string& key, const std::string& msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &n);
  return std::string{reinterpret_cast<const char*>(out), n};
}

/// A token built by hand: header.payload.signature, signed with `md` and `key`.
std::string forge(const json& header, const json& payload, const std::string& key = secret,
                  const EVP_MD* md = EVP_sha256()) {
  auto signing_input = b64url(header.dump()) + "." + b64url(payload.dump());
  return signing_input + "." + b64url(hmac(md, key, signing_input));
}

const json hs256 = {{"alg", "HS256"}, {"typ", "JWT"}};

json good_payload() {
  return {{"sub", "usr_alice"}, {"sid", "ses_1"},  {"roles", {"customer", "admin"}},
          {"jti", "jti_1"},     {"iat", now - 10}, {"exp", now + 900}};
}

claims sample() {
  claims c;
  c.sub = "usr_alice";
  c.sid = "ses_0123456789ab";
  c.roles = {"customer", "admin"};
  c.jti = "jti_0123456789ab";
  c.iat = now;
  c.exp = now + 900;
  return c;
}

bool accepted(const std::string& token, int64_t at = now) {
  return jwt_codec{secret}.verify(token, at).has_value();
}

} // namespace

CAF_TEST(a signed token verifies with every claim intact) {
  jwt_codec codec{secret};
  auto token = codec.sign(sample());
  auto got = codec.verify(token, now);
  CAF_REQUIRE(got.has_value());
  claims c = *got;
  CAF_CHECK_EQUAL(c.sub, "usr_alice");
  CAF_CHECK_EQUAL(c.sid, "ses_0123456789ab");
  CAF_CHECK_EQUAL(c.roles, std::vector<std::string>({"customer", "admin"}));
  CAF_CHECK_EQUAL(c.jti, "jti_0123456789ab");
  CAF_CHECK_EQUAL(c.iat, now);
  CAF_CHECK_EQUAL(c.exp, now + 900);
  CAF_CHECK(c.has_role("admin"));
  CAF_CHECK(!c.has_role("root"));
}

CAF_TEST(a token with no roles verifies with an empty role list) {
  auto c = sample();
  c.roles.clear();
  jwt_codec codec{secret};
  auto got = codec.verify(codec.sign(c), now);
  CAF_REQUIRE(got.has_value());
  auto roles = got->roles;
  CAF_CHECK(roles.empty());
}

CAF_TEST(a token built by hand with our secret is accepted) {
  // The control for the forged tokens below: the builder itself makes valid tokens.
  CAF_CHECK(accepted(forge(hs256, good_payload())));
}

CAF_TEST(a payload changed after signing is refused) {
  auto token = jwt_codec{secret}.sign(sample());
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  CAF_REQUIRE(second != std::string::npos);
  auto payload = good_payload();
  payload["sub"] = "usr_mallory";
  auto tampered = token.substr(0, first + 1) + b64url(payload.dump()) + token.substr(second);
  CAF_CHECK(!accepted(tampered));
  payload["sub"] = "usr_alice";
  payload["roles"] = {"customer", "admin", "root"};
  CAF_CHECK(!accepted(token.substr(0, first + 1) + b64url(payload.dump()) + token.substr(second)));
}

CAF_TEST(an unsigned token with algorithm none is refused) {
  json none = {{"alg", "none"}, {"typ", "JWT"}};
  auto unsigned_part = b64url(none.dump()) + "." + b64url(good_payload().dump());
  CAF_CHECK(!accepted(unsigned_part + "."));
  CAF_CHECK(!accepted(unsigned_part));
  CAF_CHECK(!accepted(unsigned_part + ".c2lnbmF0dXJl"));
  // Even with the HMAC our key would give it.
  CAF_CHECK(!accepted(forge(none, good_payload())));
  json none_caps = {{"alg", "None"}, {"typ", "JWT"}};
  CAF_CHECK(!accepted(forge(none_caps, good_payload())));
}

CAF_TEST(a token signed with another algorithm or another secret is refused) {
  json hs512 = {{"alg", "HS512"}, {"typ", "JWT"}};
  CAF_CHECK(!accepted(forge(hs512, good_payload(), secret, EVP_sha512())));
  CAF_CHECK(!accepted(forge(hs256, good_payload(), "another-secret-0123456789abcdef")));
  CAF_CHECK(!accepted(jwt_codec{"another-secret"}.sign(sample())));
  // The header says HS256 but the signature is HS512's.
  CAF_CHECK(!accepted(forge(hs256, good_payload(), secret, EVP_sha512())));
}

CAF_TEST(an expired token is refused) {
  auto token = jwt_codec{secret}.sign(sample()); // exp = now + 900
  CAF_CHECK(accepted(token, now + 899));
  CAF_CHECK(!accepted(token, now + 900)); // exp <= now
  CAF_CHECK(!accepted(token, now + 901));
  auto payload = good_payload();
  payload["exp"] = now - 1;
  CAF_CHECK(!accepted(forge(hs256, payload)));
}

CAF_TEST(garbage is refused without a crash) {
  for (std::string bad :
       {"", ".", "..", "abc", "a.b.c", "a.b", "Bearer x", "....", "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9..", "eyJhbGciOiJIUzI1NiJ9.!!!.xyz", "\xff\xfe.\x01.\x02"})
    CAF_CHECK(!accepted(bad));
  CAF_CHECK(!accepted(std::string(5000, 'A')));
  CAF_CHECK(!accepted(std::string(5000, '.')));
  // A valid token padded past the size limit.
  auto padded = forge(hs256, good_payload());
  padded.insert(padded.find('.') + 1, std::string(5000, 'A'));
  CAF_CHECK(!accepted(padded));
}

CAF_TEST(a token missing a claim is refused) {
  for (auto name : {"sid", "sub", "jti", "exp", "iat", "roles"}) {
    auto payload = good_payload();
    payload.erase(name);
    CAF_MESSAGE("without " << name);
    CAF_CHECK(!accepted(forge(hs256, payload)));
  }
  auto payload = good_payload();
  payload["sid"] = "";
  CAF_CHECK(!accepted(forge(hs256, payload)));
}

CAF_TEST(a token with ill typed claims is refused) {
  auto roles_string = good_payload();
  roles_string["roles"] = "admin";
  CAF_CHECK(!accepted(forge(hs256, roles_string)));
  auto roles_object = good_payload();
  roles_object["roles"] = {{"admin", true}};
  CAF_CHECK(!accepted(forge(hs256, roles_object)));
  auto roles_numbers = good_payload();
  roles_numbers["roles"] = {1, 2};
  CAF_CHECK(!accepted(forge(hs256, roles_numbers)));
  auto sid_number = good_payload();
  sid_number["sid"] = 42;
  CAF_CHECK(!accepted(forge(hs256, sid_number)));
  auto exp_string = good_payload();
  exp_string["exp"] = std::to_string(now + 900);
  CAF_CHECK(!accepted(forge(hs256, exp_string)));
}
