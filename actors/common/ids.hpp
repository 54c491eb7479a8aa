#pragma once

// Ids: opaque, prefixed (`bk_…`), 15 characters at most so std::string keeps them inline.

#include <cstdint>
#include <string>
#include <string_view>

namespace bookstore::ids {

/// A new random id: `prefix` + "_" + 12 base32 characters (60 random bits).
std::string make(std::string_view prefix);

/// The deterministic id of the n-th generated item (demo catalog): same n, same id.
std::string make_deterministic(std::string_view prefix, uint64_t n);

/// Whether `id` has the shape of an id with `prefix` (any other string is unknown by shape).
bool well_formed(std::string_view id, std::string_view prefix);

/// A new request id (15 hex characters).
std::string make_request_id();

/// Whether a client-sent X-Request-Id may be echoed: 1..128 of [A-Za-z0-9._-].
bool valid_request_id(std::string_view id);

} // namespace bookstore::ids
