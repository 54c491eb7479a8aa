#pragma once

// Profile pictures on the local filesystem (the stand-in for object storage): one file per user
// under a directory, written atomically and synced, so a stored picture survives a crash.

#include <optional>
#include <string>

namespace bookstore::avatar_files {

/// Writes `bytes` as `dir/user_id` (temp file, fsync, rename, fsync of the directory).
/// Throws std::runtime_error.
void store(const std::string& dir, const std::string& user_id, const std::string& bytes);

/// The bytes, or nothing if there is no file.
std::optional<std::string> load(const std::string& dir, const std::string& user_id);

/// Removes the file (absent is fine).
void erase(const std::string& dir, const std::string& user_id);

} // namespace bookstore::avatar_files
