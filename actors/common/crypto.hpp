#pragma once

// Small crypto helpers over OpenSSL: randomness, hashes, and AES-256-GCM for secrets at rest.

#include <optional>
#include <string>
#include <string_view>

namespace bookstore::crypto {

/// `n` bytes from the OS-seeded CSPRNG (throws std::runtime_error if it fails).
std::string random_bytes(size_t n);

/// `n` random bytes as unpadded base64url: tokens safe in URLs and JSON.
std::string random_token(size_t n);

/// base64url without padding.
std::string b64url(std::string_view bytes);

/// Lower-case hex.
std::string hex(std::string_view bytes);

/// The bytes of a hex string, or nothing if it is not hex of even length.
std::optional<std::string> unhex(std::string_view text);

/// SHA-256 as lower-case hex.
std::string sha256_hex(std::string_view data);

/// HMAC-SHA256 of `data` under `key`, as lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Constant-time equality (lengths compared first).
bool equal(std::string_view a, std::string_view b);

/// AES-256-GCM: iv(12) | ciphertext | tag(16), authenticated with `aad`. `key` is 32 bytes.
std::string seal(std::string_view key, std::string_view plaintext, std::string_view aad);

/// The plaintext, or nothing if the blob was altered, the key or the aad is wrong.
std::optional<std::string> open(std::string_view key, std::string_view blob, std::string_view aad);

} // namespace bookstore::crypto
