#include "actors/catalog/cursor.hpp"

#include <openssl/evp.h>

namespace bookstore::cursor {

namespace {

constexpr const char* prefix = "c1:";

} // namespace

std::string encode(const std::string& last_id) {
  auto plain = prefix + last_id;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(plain.data()),
                           static_cast<int>(plain.size()));
  out.resize(static_cast<size_t>(n));
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::optional<std::string> decode(const std::string& text) {
  if (text.empty() || text.size() > 256 || text.size() % 4 == 1)
    return std::nullopt;
  std::string b64 = text;
  for (auto& c : b64) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return std::nullopt;
  }
  size_t pad = (4 - b64.size() % 4) % 4;
  b64.append(pad, '=');
  std::string out(b64.size() / 4 * 3, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(b64.data()),
                           static_cast<int>(b64.size()));
  if (n < 0)
    return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  if (out.compare(0, 3, prefix) != 0 || out.size() == 3)
    return std::nullopt;
  return out.substr(3);
}

} // namespace bookstore::cursor
