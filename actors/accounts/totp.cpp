#include "actors/accounts/totp.hpp"

#include "actors/common/crypto.hpp"

#include <liboath/oath.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace bookstore::totp {

namespace {

constexpr unsigned step_seconds = 30;

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { oath_init(); });
}

std::string percent_encode(std::string_view s) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

} // namespace

std::string new_secret() {
  return crypto::random_bytes(20);
}

std::string base32(std::string_view secret) {
  init_once();
  char* out = nullptr;
  size_t len = 0;
  if (oath_base32_encode(secret.data(), secret.size(), &out, &len) != OATH_OK)
    return {};
  std::string s{out, len};
  std::free(out);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string uri(std::string_view issuer, std::string_view account, std::string_view secret) {
  auto i = percent_encode(issuer);
  return "otpauth://totp/" + i + ":" + percent_encode(account) + "?secret=" + base32(secret)
         + "&issuer=" + i + "&algorithm=SHA1&digits=6&period=30";
}

std::string code(std::string_view secret, int64_t t, unsigned digits, std::string_view hash) {
  init_once();
  int flags = hash == "sha256" ? OATH_TOTP_HMAC_SHA256 : hash == "sha512" ? OATH_TOTP_HMAC_SHA512 : 0;
  char out[16] = {};
  if (oath_totp_generate2(secret.data(), secret.size(), static_cast<time_t>(t), step_seconds,
                          OATH_TOTP_DEFAULT_START_TIME, digits, flags, out)
      != OATH_OK)
    return {};
  return out;
}

std::optional<int64_t> accept(std::string_view secret, std::string_view code, int64_t now,
                              int64_t last_step) {
  init_once();
  if (code.size() != 6 || !std::all_of(code.begin(), code.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
    return std::nullopt;
  std::string otp{code};
  int pos = 0;
  uint64_t counter = 0;
  auto rc = oath_totp_validate3(secret.data(), secret.size(), static_cast<time_t>(now),
                                step_seconds, OATH_TOTP_DEFAULT_START_TIME, 1, &pos, &counter,
                                otp.c_str());
  if (rc < 0)
    return std::nullopt;
  auto step = static_cast<int64_t>(counter);
  if (step <= last_step)
    return std::nullopt;
  return step;
}

} // namespace bookstore::totp
