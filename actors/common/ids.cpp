#include "actors/common/ids.hpp"

#include <openssl/rand.h>

#include <random>
#include <stdexcept>

namespace bookstore::ids {

namespace {

constexpr char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

std::string encode60(std::string_view prefix, uint64_t bits) {
  std::string out;
  out.reserve(prefix.size() + 13);
  out.append(prefix);
  out += '_';
  for (int i = 11; i >= 0; --i)
    out += alphabet[(bits >> (5 * i)) & 31];
  return out;
}

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

} // namespace

std::string make(std::string_view prefix) {
  uint64_t bits = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&bits), sizeof bits) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return encode60(prefix, bits);
}

std::string make_deterministic(std::string_view prefix, uint64_t n) {
  return encode60(prefix, splitmix(n));
}

bool well_formed(std::string_view id, std::string_view prefix) {
  if (id.size() <= prefix.size() + 1 || id.size() > prefix.size() + 33)
    return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_')
    return false;
  for (auto c : id.substr(prefix.size() + 1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
      return false;
  return true;
}

std::string make_request_id() {
  thread_local std::mt19937_64 rng{[] {
    uint64_t seed = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1)
      seed = std::random_device{}();
    return seed;
  }()};
  static constexpr char hex[] = "0123456789abcdef";
  // 15 characters: short enough for std::string's inline buffer on every copy of the context.
  auto bits = rng();
  std::string out(15, '0');
  for (int i = 0; i < 15; ++i)
    out[i] = hex[(bits >> (4 * i)) & 15];
  return out;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (auto c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.'
          || c == '_' || c == '-'))
      return false;
  return true;
}

} // namespace bookstore::ids
