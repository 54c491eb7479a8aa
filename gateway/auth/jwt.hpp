#pragma once

// Access tokens: JWT HS256 through libjwt. Only HS256 with our secret is accepted: a token that
// names another algorithm ("none", RS256, HS512) is refused before anything else is read.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bookstore::auth {

struct claims {
  std::string sub; ///< user id
  std::string sid; ///< session id
  std::vector<std::string> roles;
  std::string jti;
  int64_t iat = 0; ///< Unix seconds
  int64_t exp = 0; ///< Unix seconds

  bool has_role(const std::string& role) const;
};

class jwt_codec {
public:
  explicit jwt_codec(std::string secret);

  /// The signed token for `c`. Throws std::runtime_error if libjwt fails.
  std::string sign(const claims& c) const;

  /// The claims of `token` if its signature is ours, its algorithm HS256, its claims complete
  /// and it has not expired at `now` (Unix seconds).
  std::optional<claims> verify(const std::string& token, int64_t now) const;

private:
  std::string secret_;
};

} // namespace bookstore::auth
