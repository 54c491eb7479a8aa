#include "actors/accounts/password.hpp"

#include "actors/common/crypto.hpp"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

namespace bookstore::password {

namespace {

/// SHA-256 of the password, base64 (44 characters, no NUL bytes).
std::string prehash(std::string_view plain) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), digest);
  std::string out(48, '\0');
  out.resize(static_cast<size_t>(
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, sizeof digest)));
  return out;
}

} // namespace

std::optional<std::string> hash(std::string_view plain, unsigned cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, salt, sizeof salt) == nullptr)
    return std::nullopt;
  auto data = std::make_unique<crypt_data>(); // 32 KiB: not on the stack
  auto input = prehash(plain);
  const char* h = crypt_rn(input.c_str(), salt, data.get(), sizeof *data);
  if (h == nullptr || h[0] == '*')
    return std::nullopt;
  return std::string{h};
}

bool verify(std::string_view plain, const std::string& stored) {
  if (stored.rfind("$2b$", 0) != 0)
    return false;
  auto data = std::make_unique<crypt_data>();
  auto input = prehash(plain);
  const char* h = crypt_rn(input.c_str(), stored.c_str(), data.get(), sizeof *data);
  return h != nullptr && crypto::equal(h, stored);
}

void verify_nothing(unsigned cost) {
  // A fixed hash at the configured cost, made once per cost; verifying against it costs what a
  // real verification costs.
  thread_local unsigned made_for = 0;
  thread_local std::string dummy;
  if (made_for != cost || dummy.empty()) {
    dummy = hash("not a password", cost).value_or("");
    made_for = cost;
  }
  (void) verify("still not a password", dummy);
}

} // namespace bookstore::password
