#pragma once

// The gateway's security checks in one place, run for every request before its route:
// the client's IP (X-Forwarded-For only from trusted proxies), the per-IP rate limit, and the
// bearer token (signature and expiry, then revocation). Also issues access tokens.

#include "actors/protocol/accounts.hpp"
#include "gateway/auth/jwt.hpp"
#include "gateway/auth/rate_limiter.hpp"
#include "gateway/auth/revocations.hpp"
#include "gateway/http.hpp"

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace bookstore::auth {

struct gate_settings {
  std::string jwt_secret;
  std::chrono::seconds access_ttl{900};
  std::vector<std::string> trusted_proxies; ///< peers whose X-Forwarded-For is believed
};

enum class verdict { ok, missing, invalid, revoked };

class gate {
public:
  /// `limiter` may be null (no rate limit).
  gate(gate_settings cfg, revocations& revoked, rate_limiter* limiter);

  /// The address requests are counted and audited under.
  std::string client_ip(const std::string& peer, const std::string& forwarded_for) const;

  /// Counts a request of `ip`.
  rate_decision limit(const std::string& ip, int64_t now_ms);
  /// What `limit` would say, without counting (for answers that are not counted).
  rate_decision peek(const std::string& ip, int64_t now_ms);
  bool limits() const { return limiter_ != nullptr; }

  /// Checks `Authorization: Bearer <token>`; on ok, `out` says who.
  verdict authenticate(const std::string& authorization, int64_t now_s, http::caller& out);

  /// A signed access token for `grant`, valid from `now_s` for the access lifetime.
  std::string issue(const login_grant& grant, int64_t now_s) const;

  /// Refuses the session (and the token) on every node from now on.
  void revoke(const std::string& sid, const std::string& jti, int64_t until_s);

  int64_t access_ttl_s() const { return cfg_.access_ttl.count(); }

private:
  gate_settings cfg_;
  jwt_codec codec_;
  revocations& revoked_;
  rate_limiter* limiter_;
  // Verified tokens: a repeated token is one lookup, not a JSON parse and an HMAC.
  std::mutex cache_mtx_;
  std::unordered_map<std::string, claims> cache_;
};

} // namespace bookstore::auth
