#include "actors/common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

namespace bookstore::crypto {

namespace {

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

constexpr size_t iv_size = 12;
constexpr size_t tag_size = 16;

} // namespace

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string random_token(size_t n) {
  return b64url(random_bytes(n));
}

std::string b64url(std::string_view bytes) {
  std::string s(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  s.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(s.data()),
                                               bytes_of(bytes), static_cast<int>(bytes.size()))));
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2 != 0)
    return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    auto hi = nibble(text[i]);
    auto lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  // OpenSSL 3 looks the algorithm up again on every one-shot SHA256() (most of its cost for a
  // short input): fetch it once, and keep one digest context per thread.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                                          EVP_MD_CTX_free};
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  if (md == nullptr || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1
      || EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1
      || EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1)
    throw std::runtime_error("SHA-256 failed");
  return hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(),
           mac, &len)
      == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed");
  return hex({reinterpret_cast<const char*>(mac), len});
}

bool equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != 32)
    throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
  auto iv = random_bytes(iv_size);
  cipher_ctx c{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  std::string out = iv;
  out.resize(iv_size + plaintext.size() + tag_size);
  auto* ct = reinterpret_cast<unsigned char*>(out.data()) + iv_size;
  int len = 0;
  int total = 0;
  if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, bytes_of(key), bytes_of(iv)) != 1
      || EVP_EncryptUpdate(c.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) != 1
      || EVP_EncryptUpdate(c.get(), ct, &len, bytes_of(plaintext),
                           static_cast<int>(plaintext.size()))
           != 1)
    throw std::runtime_error("AES-GCM encryption failed");
  total = len;
  if (EVP_EncryptFinal_ex(c.get(), ct + total, &len) != 1
      || EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, tag_size,
                             ct + plaintext.size())
           != 1)
    throw std::runtime_error("AES-GCM encryption failed");
  return out;
}

std::optional<std::string> open(std::string_view key, std::string_view blob, std::string_view aad) {
  if (key.size() != 32 || blob.size() < iv_size + tag_size)
    return std::nullopt;
  auto ct = blob.substr(iv_size, blob.size() - iv_size - tag_size);
  std::string tag{blob.substr(blob.size() - tag_size)};
  cipher_ctx c{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  std::string out(ct.size(), '\0');
  int len = 0;
  if (!c
      || EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, bytes_of(key), bytes_of(blob))
           != 1
      || EVP_DecryptUpdate(c.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) != 1
      || EVP_DecryptUpdate(c.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                           bytes_of(ct), static_cast<int>(ct.size()))
           != 1
      || EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) != 1)
    return std::nullopt;
  int tail = 0;
  if (EVP_DecryptFinal_ex(c.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &tail) != 1)
    return std::nullopt;
  return out;
}

} // namespace bookstore::crypto
