#pragma once

// TOTP (RFC 6238) through liboath: HMAC-SHA1, 6 digits, 30-second steps, one step of drift
// either way. A code is accepted once: callers keep the last accepted step and pass it back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bookstore::totp {

/// A new random secret (20 bytes, as RFC 4226 recommends).
std::string new_secret();

/// The base32 form authenticator apps take (no padding).
std::string base32(std::string_view secret);

/// `otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
std::string uri(std::string_view issuer, std::string_view account, std::string_view secret);

/// The code for Unix time `t` (seconds), `digits` long, for the RFC's test vectors also with
/// SHA-256 or SHA-512 ("sha1", "sha256", "sha512").
std::string code(std::string_view secret, int64_t t, unsigned digits = 6,
                 std::string_view hash = "sha1");

/// The time step `code` is valid for at `now` (±1 step), or nothing. Steps at or before
/// `last_step` are refused (replays).
std::optional<int64_t> accept(std::string_view secret, std::string_view code, int64_t now,
                              int64_t last_step);

} // namespace bookstore::totp
