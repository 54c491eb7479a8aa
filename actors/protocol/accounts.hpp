#pragma once

// The accounts service: users, passwords (bcrypt on its own threads, never the scheduler's), MFA,
// avatars, personal-data export and deletion, and the audit log. Logins open a `user_session`
// entity through the session region; the gateway signs access tokens from what a grant says.
//
// Storage failures are errc::storage_unavailable; bad input the gateway could not see is
// errc::invalid_request naming the field.

#include "actors/protocol/request_ctx.hpp"

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

struct user_view {
  std::string id;
  std::string email;
  std::string name;
  std::vector<std::string> roles;
  bool mfa_enabled = false;
  int64_t created_at = 0; ///< Unix ms
};

/// A successful login or refresh: what the access token is made from, and the refresh token.
struct login_grant {
  std::string user_id;
  std::vector<std::string> roles;
  std::string session_id;
  std::string refresh_token; ///< shown once; only its hash is stored
};

/// Creates a customer account. errc::email_taken if the (lower-case) email exists.
struct register_user {
  request_ctx ctx;
  std::string email; ///< already lower-case and checked by the gateway
  std::string password;
  std::string name;
  std::string ip;
};

/// Checks email and password (and the MFA code when enabled), then opens a session.
/// errc::invalid_credentials (also for an unknown or deleted account), errc::mfa_required,
/// errc::invalid_mfa_code.
struct login_user {
  request_ctx ctx;
  std::string email;
  std::string password;
  std::string mfa_code; ///< empty = none given
  std::string ip;
};

/// Rotates a refresh token. errc::unauthenticated for anything but the session's live token;
/// a spent token also revokes the session (detail "refresh_reuse:<session id>").
struct refresh_login {
  request_ctx ctx;
  std::string refresh_token;
  std::string ip;
};

/// The user `user_id` (errc::not_found if none or deleted).
struct get_user {
  request_ctx ctx;
  std::string user_id;
};

/// Changes the profile; an empty `name` changes nothing.
struct update_user {
  request_ctx ctx;
  std::string user_id;
  std::string name;
};

/// A new TOTP secret, stored encrypted and not yet enabled (replaces a pending one).
/// errc::invalid_state if MFA is already enabled.
struct setup_mfa {
  request_ctx ctx;
  std::string user_id;
  std::string ip;
};

struct mfa_enrollment {
  std::string secret; ///< base32
  std::string otpauth_uri;
};

/// Enables MFA if `code` is valid for the pending secret. errc::invalid_mfa_code;
/// errc::invalid_state if setup was not called.
struct enable_mfa {
  request_ctx ctx;
  std::string user_id;
  std::string code;
  std::string ip;
};

/// Schedules the deletion of the account: login is refused at once, every session is revoked,
/// and the purge job erases personal data after the grace period. errc::invalid_credentials,
/// errc::mfa_required, errc::invalid_mfa_code.
struct delete_user {
  request_ctx ctx;
  std::string user_id;
  std::string password;
  std::string mfa_code;
  std::string ip;
};

struct deletion_receipt {
  int64_t purge_after = 0;              ///< Unix ms
  std::vector<std::string> session_ids; ///< revoked by the deletion
};

struct session_record {
  std::string id;
  int64_t created_at = 0;
  std::string ip;
};

struct audit_record {
  int64_t at = 0;
  std::string action;
  std::string subject_id;
  std::string ip;
  std::string request_id;
};

/// Everything held about the user. Writes an audit entry.
struct export_user {
  request_ctx ctx;
  std::string user_id;
  std::string ip;
};

struct user_export {
  user_view profile;
  std::vector<session_record> sessions;
  std::vector<audit_record> audit;
};

/// An image as stored: the media type and the bytes.
struct avatar {
  std::string content_type;
  std::string bytes;
};

/// Stores the user's picture (type already checked by magic bytes); durable when answered.
struct put_avatar {
  request_ctx ctx;
  std::string user_id;
  avatar image;
};

/// The user's picture; errc::not_found if none.
struct get_avatar {
  request_ctx ctx;
  std::string user_id;
};

/// One line of the append-only audit log, recorded by the gateway (logout, admin actions).
struct audit_entry {
  std::string actor_id;
  std::string action;
  std::string subject_id;
  std::string ip;
  std::string request_id;
  std::string detail_json; ///< a JSON object; empty = {}
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_view& x) {
  return f(caf::meta::type_name("user_view"), x.id, x.email, x.name, x.roles, x.mfa_enabled,
           x.created_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, login_grant& x) {
  return f(caf::meta::type_name("login_grant"), x.user_id, x.roles, x.session_id,
           x.refresh_token);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, register_user& x) {
  return f(caf::meta::type_name("register_user"), x.ctx, x.email, x.password, x.name, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, login_user& x) {
  return f(caf::meta::type_name("login_user"), x.ctx, x.email, x.password, x.mfa_code, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refresh_login& x) {
  return f(caf::meta::type_name("refresh_login"), x.ctx, x.refresh_token, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_user& x) {
  return f(caf::meta::type_name("get_user"), x.ctx, x.user_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, update_user& x) {
  return f(caf::meta::type_name("update_user"), x.ctx, x.user_id, x.name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, setup_mfa& x) {
  return f(caf::meta::type_name("setup_mfa"), x.ctx, x.user_id, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mfa_enrollment& x) {
  return f(caf::meta::type_name("mfa_enrollment"), x.secret, x.otpauth_uri);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, enable_mfa& x) {
  return f(caf::meta::type_name("enable_mfa"), x.ctx, x.user_id, x.code, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_user& x) {
  return f(caf::meta::type_name("delete_user"), x.ctx, x.user_id, x.password, x.mfa_code, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deletion_receipt& x) {
  return f(caf::meta::type_name("deletion_receipt"), x.purge_after, x.session_ids);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_record& x) {
  return f(caf::meta::type_name("session_record"), x.id, x.created_at, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_record& x) {
  return f(caf::meta::type_name("audit_record"), x.at, x.action, x.subject_id, x.ip,
           x.request_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, export_user& x) {
  return f(caf::meta::type_name("export_user"), x.ctx, x.user_id, x.ip);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_export& x) {
  return f(caf::meta::type_name("user_export"), x.profile, x.sessions, x.audit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, avatar& x) {
  return f(caf::meta::type_name("avatar"), x.content_type, x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, put_avatar& x) {
  return f(caf::meta::type_name("put_avatar"), x.ctx, x.user_id, x.image);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_avatar& x) {
  return f(caf::meta::type_name("get_avatar"), x.ctx, x.user_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_entry& x) {
  return f(caf::meta::type_name("audit_entry"), x.actor_id, x.action, x.subject_id, x.ip,
           x.request_id, x.detail_json);
}

/// Creates the configured bootstrap admin (roles admin and operator) unless its email exists;
/// answers true once it does (false if none is configured).
using bootstrap_atom = caf::atom_constant<caf::atom("bootstrap")>;

using accounts_actor = caf::typed_actor<caf::replies_to<bootstrap_atom>::with<bool>,
                                        caf::replies_to<register_user>::with<user_view>,
                                        caf::replies_to<login_user>::with<login_grant>,
                                        caf::replies_to<refresh_login>::with<login_grant>,
                                        caf::replies_to<get_user>::with<user_view>,
                                        caf::replies_to<update_user>::with<user_view>,
                                        caf::replies_to<setup_mfa>::with<mfa_enrollment>,
                                        caf::replies_to<enable_mfa>::with<user_view>,
                                        caf::replies_to<delete_user>::with<deletion_receipt>,
                                        caf::replies_to<export_user>::with<user_export>,
                                        caf::replies_to<put_avatar>::with<avatar>,
                                        caf::replies_to<get_avatar>::with<avatar>,
                                        caf::reacts_to<audit_entry>>;

} // namespace bookstore
