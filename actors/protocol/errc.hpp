#pragma once

// The one error enum of the platform. Storage failures become `storage_unavailable` at the
// storage edge; only gateway/ maps these codes to HTTP statuses. An error's context carries
// `(detail, message)`: detail is the field name or the id the error is about, message is for
// humans.

#include <caf/error.hpp>
#include <caf/message.hpp>

#include <cstdint>
#include <string>

namespace bookstore {

enum class errc : uint8_t {
  none = 0,
  invalid_request,     ///< input the gateway could not have caught (e.g. a bad cursor)
  not_found,           ///< no such entity or resource
  insufficient_stock,  ///< fewer available than asked, or on hand below reserved
  invalid_state,       ///< the entity is in a state where the command makes no sense
  isbn_taken,          ///< another book has this ISBN
  version_conflict,    ///< another activation of the entity wrote first
  storage_unavailable, ///< PostgreSQL failed or is unreachable
  unavailable,         ///< another dependency is down
  timeout,             ///< a deadline passed
  internal,            ///< a bug; logged with the request id
  unauthenticated,     ///< no valid session: unknown, revoked, expired or a spent refresh token
  invalid_credentials, ///< wrong email or password (the same for an unknown email)
  mfa_required,        ///< MFA is enabled and no code was given
  invalid_mfa_code,    ///< MFA code wrong, stale or replayed
  email_taken,         ///< another account has this email
  forbidden,           ///< authenticated, but not allowed
  idempotency_conflict, ///< the idempotency key was used with another request body
  not_settled,         ///< entity runtime only: the command waits for a later durable state
};

const char* to_string(errc x);

/// An error with our category; `detail` is a field name or an id, `message` is for humans.
caf::error make_error(errc code, std::string detail = {}, std::string message = {});

/// What a caf::error says, in our terms (CAF's own errors become timeout/unavailable/internal).
struct error_info {
  errc code = errc::none;
  std::string detail;
  std::string message;
};

error_info describe(const caf::error& err);

} // namespace bookstore

CAF_ERROR_CODE_ENUM(bookstore::errc, "bookstore")
