#include "gateway/auth/jwt.hpp"

#include <jwt.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace bookstore::auth {

namespace {

struct jwt_free_fn {
  void operator()(jwt_t* p) const { jwt_free(p); }
};
using jwt_ptr = std::unique_ptr<jwt_t, jwt_free_fn>;

struct str_free_fn {
  void operator()(char* p) const { std::free(p); }
};
using c_str_ptr = std::unique_ptr<char, str_free_fn>;

const unsigned char* key_of(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

/// The header names HS256: checked before libjwt parses anything else, so "none" and other
/// algorithms never reach its verification paths.
bool header_says_hs256(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 200)
    return false;
  std::string b64{token.substr(0, dot)};
  for (auto& ch : b64) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  if (b64.size() % 4 == 1)
    return false;
  while (b64.size() % 4 != 0) b64.push_back('=');
  static const std::string alphabet
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : b64) {
    if (ch == '=')
      break;
    auto p = alphabet.find(ch);
    if (p == std::string::npos)
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  auto header = nlohmann::json::parse(out, nullptr, false);
  if (!header.is_object())
    return false;
  auto alg = header.find("alg");
  return alg != header.end() && alg->is_string() && alg->get<std::string>() == "HS256";
}

std::string grant(jwt_t* j, const char* name) {
  errno = 0;
  const char* v = jwt_get_grant(j, name);
  return v != nullptr ? std::string{v} : std::string{};
}

} // namespace

bool claims::has_role(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

jwt_codec::jwt_codec(std::string secret) : secret_(std::move(secret)) {
  if (secret_.empty())
    throw std::invalid_argument("the JWT secret must not be empty");
}

std::string jwt_codec::sign(const claims& c) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0)
    throw std::runtime_error("jwt_new failed");
  jwt_ptr j{raw};
  nlohmann::json roles = c.roles;
  nlohmann::json body = {{"roles", roles}};
  if (jwt_add_grant(j.get(), "sub", c.sub.c_str()) != 0
      || jwt_add_grant(j.get(), "sid", c.sid.c_str()) != 0
      || jwt_add_grant(j.get(), "jti", c.jti.c_str()) != 0
      || jwt_add_grant_int(j.get(), "iat", static_cast<long>(c.iat)) != 0
      || jwt_add_grant_int(j.get(), "exp", static_cast<long>(c.exp)) != 0
      || jwt_add_grants_json(j.get(), body.dump().c_str()) != 0
      || jwt_set_alg(j.get(), JWT_ALG_HS256, key_of(secret_), static_cast<int>(secret_.size()))
           != 0)
    throw std::runtime_error("building the JWT failed");
  c_str_ptr out{jwt_encode_str(j.get())};
  if (!out)
    throw std::runtime_error("jwt_encode_str failed");
  return out.get();
}

std::optional<claims> jwt_codec::verify(const std::string& token, int64_t now) const {
  if (token.empty() || token.size() > 4096 || !header_says_hs256(token))
    return std::nullopt;
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, token.c_str(), key_of(secret_), static_cast<int>(secret_.size())) != 0)
    return std::nullopt;
  jwt_ptr j{raw};
  if (jwt_get_alg(j.get()) != JWT_ALG_HS256)
    return std::nullopt;
  claims c;
  c.sub = grant(j.get(), "sub");
  c.sid = grant(j.get(), "sid");
  c.jti = grant(j.get(), "jti");
  errno = 0;
  c.iat = jwt_get_grant_int(j.get(), "iat");
  if (errno != 0)
    return std::nullopt;
  c.exp = jwt_get_grant_int(j.get(), "exp");
  if (errno != 0)
    return std::nullopt;
  c_str_ptr roles{jwt_get_grants_json(j.get(), "roles")};
  if (!roles)
    return std::nullopt;
  auto parsed = nlohmann::json::parse(roles.get(), nullptr, false);
  if (!parsed.is_array())
    return std::nullopt;
  for (auto& r : parsed) {
    if (!r.is_string())
      return std::nullopt;
    c.roles.push_back(r.get<std::string>());
  }
  if (c.sub.empty() || c.sid.empty() || c.jti.empty() || c.exp <= now)
    return std::nullopt;
  return c;
}

} // namespace bookstore::auth
