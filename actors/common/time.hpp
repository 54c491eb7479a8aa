#pragma once

#include <cstdint>
#include <string>

namespace bookstore {

/// Milliseconds since the Unix epoch, wall clock.
int64_t unix_ms_now();

/// RFC 3339 in UTC with whole seconds: 2026-11-24T10:00:00Z.
std::string rfc3339(int64_t unix_ms);

} // namespace bookstore
