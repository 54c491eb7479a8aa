#pragma once

// The login session of one user, held by its `user_session` entity (one per login) and reached
// through the session region by session id. It holds what must outlive an access token: the
// refresh-token hash and its generation, the roles granted at login, the last IP, and the cart.
// Every changing command is answered only once a snapshot holding its change is committed.
//
// Errors common to every command but open_session: errc::unauthenticated when the session does
// not exist, is revoked or expired, or belongs to another user than `ctx.caller` (when set).

#include "actors/protocol/entity.hpp"
#include "actors/protocol/request_ctx.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

/// What a session says of itself.
struct session_view {
  std::string session_id;
  std::string user_id;
  std::vector<std::string> roles;
  int64_t generation = 0; ///< how many times the refresh token was rotated
  bool revoked = false;
  int64_t created_at = 0; ///< Unix ms
  int64_t expires_at = 0; ///< Unix ms: the refresh token's end of life
  std::string last_ip;
  bool mfa = false; ///< the login that opened it passed an MFA code
};

struct cart_line {
  std::string book_id;
  int64_t quantity = 0;
};

/// The cart as the session holds it: book ids and quantities (prices come from the catalog).
struct cart_contents {
  std::vector<cart_line> items;
};

/// Starts the session (after a successful login). errc::invalid_state if the id is in use.
struct open_session {
  request_ctx ctx;
  std::string session_id;
  std::string user_id;
  std::vector<std::string> roles;
  std::string refresh_hash; ///< SHA-256 (hex) of the refresh token's secret
  std::string ip;
  int64_t expires_at = 0; ///< Unix ms
  bool mfa = false;       ///< the login passed an MFA code
};

/// Rotates the refresh token: `presented_hash` must be the current one, then `next_hash`
/// replaces it. Presenting a spent one revokes the session and fails with
/// errc::unauthenticated, detail "refresh_reuse".
struct refresh_session {
  request_ctx ctx;
  std::string session_id;
  std::string presented_hash;
  std::string next_hash;
  std::string ip;
  int64_t expires_at = 0; ///< the rotated token's end of life, Unix ms
};

/// Revokes the session (logout, account deletion). Safe to repeat; an unknown session is
/// errc::unauthenticated.
struct end_session {
  request_ctx ctx;
  std::string session_id;
};

/// Whether the session is live (and belongs to `ctx.caller`).
struct check_session {
  request_ctx ctx;
  std::string session_id;
};

/// The session's cart.
struct get_cart {
  request_ctx ctx;
  std::string session_id;
};

/// Sets the quantity (1..100) of a book in the cart. errc::invalid_request (detail "quantity")
/// when out of range or when the cart would hold more than 50 books.
struct set_cart_item {
  request_ctx ctx;
  std::string session_id;
  std::string book_id;
  int64_t quantity = 0;
};

/// Takes a book out of the cart (absent is not an error).
struct remove_cart_item {
  request_ctx ctx;
  std::string session_id;
  std::string book_id;
};

/// Empties the cart.
struct clear_cart {
  request_ctx ctx;
  std::string session_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_view& x) {
  return f(caf::meta::type_name("session_view"), x.session_id, x.user_id, x.roles, x.generation,
           x.revoked, x.created_at, x.expires_at, x.last_ip, x.mfa);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_line& x) {
  return f(caf::meta::type_name("cart_line"), x.book_id, x.quantity);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_contents& x) {
  return f(caf::meta::type_name("cart_contents"), x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, open_session& x) {
  return f(caf::meta::type_name("open_session"), x.ctx, x.session_id, x.user_id, x.roles,
           x.refresh_hash, x.ip, x.expires_at, x.mfa);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refresh_session& x) {
  return f(caf::meta::type_name("refresh_session"), x.ctx, x.session_id, x.presented_hash,
           x.next_hash, x.ip, x.expires_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, end_session& x) {
  return f(caf::meta::type_name("end_session"), x.ctx, x.session_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, check_session& x) {
  return f(caf::meta::type_name("check_session"), x.ctx, x.session_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_cart& x) {
  return f(caf::meta::type_name("get_cart"), x.ctx, x.session_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_cart_item& x) {
  return f(caf::meta::type_name("set_cart_item"), x.ctx, x.session_id, x.book_id, x.quantity);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remove_cart_item& x) {
  return f(caf::meta::type_name("remove_cart_item"), x.ctx, x.session_id, x.book_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, clear_cart& x) {
  return f(caf::meta::type_name("clear_cart"), x.ctx, x.session_id);
}

/// The session region: the interface of every user session, addressed by session id.
using session_actor = caf::typed_actor<caf::replies_to<open_session>::with<session_view>,
                                       caf::replies_to<refresh_session>::with<session_view>,
                                       caf::replies_to<end_session>::with<session_view>,
                                       caf::replies_to<check_session>::with<session_view>,
                                       caf::replies_to<get_cart>::with<cart_contents>,
                                       caf::replies_to<set_cart_item>::with<cart_contents>,
                                       caf::replies_to<remove_cart_item>::with<cart_contents>,
                                       caf::replies_to<clear_cart>::with<cart_contents>,
                                       caf::reacts_to<wake_entity>>;

} // namespace bookstore
