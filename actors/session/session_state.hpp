#pragma once

// The snapshot of a user session (msgpack map form: fields may be added, never renamed).

#include <msgpack.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bookstore {

struct session_state {
  std::string user_id; ///< empty = no such session
  std::vector<std::string> roles;
  std::string refresh_hash;        ///< SHA-256 hex of the live refresh token's secret
  std::vector<std::string> spent;  ///< hashes of rotated-away refresh tokens (newest last)
  int64_t generation = 0;
  int64_t created_at = 0; ///< Unix ms
  int64_t expires_at = 0; ///< Unix ms
  bool revoked = false;
  std::string last_ip;
  std::map<std::string, int64_t> cart; ///< book id -> quantity
  bool mfa = false; ///< the login that opened the session passed an MFA code
  MSGPACK_DEFINE_MAP(user_id, roles, refresh_hash, spent, generation, created_at, expires_at,
                     revoked, last_ip, cart, mfa)
};

} // namespace bookstore
