#pragma once

// Opaque list cursors: base64url of a versioned key, so clients cannot build or read them.

#include <optional>
#include <string>

namespace bookstore::cursor {

std::string encode(const std::string& last_id);

/// The key inside a cursor this code made; nullopt for anything else.
std::optional<std::string> decode(const std::string& text);

} // namespace bookstore::cursor
