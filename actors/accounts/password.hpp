#pragma once

// Password hashing: bcrypt ($2b$) through libxcrypt. Slow on purpose (cost 12 is ~0.25 s):
// call it only from the accounts service's own threads, never the scheduler's.
//
// bcrypt reads at most 72 bytes; passwords may be up to 128 characters, so the input is first
// reduced to a fixed 44-character SHA-256 digest (base64), which keeps every byte significant.

#include <optional>
#include <string>
#include <string_view>

namespace bookstore::password {

/// A `$2b$` hash of `plain` at `cost` (4..31), or nothing if libxcrypt refused.
std::optional<std::string> hash(std::string_view plain, unsigned cost);

/// Whether `plain` matches `stored` (constant-time comparison of the results).
bool verify(std::string_view plain, const std::string& stored);

/// Burns the time of one verification (for unknown emails), so timing does not tell them apart.
void verify_nothing(unsigned cost);

} // namespace bookstore::password
