#pragma once

// The statements of the accounts service (tables users, user_sessions, audit_log), on one
// connection. Each function is one transaction unless it takes a transaction.

#include "actors/protocol/accounts.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace bookstore::pg {

struct user_row {
  user_view view;
  std::string password_hash;
  std::string mfa_secret; ///< sealed; empty = none
  int64_t mfa_last_step = 0;
  std::string avatar_type;
  bool deleted = false;    ///< deletion requested
  bool mfa_locked = false; ///< too many wrong MFA codes lately: no code is taken for now
};

void prepare_account_statements(pqxx::connection& conn);

/// Throws pg::failure(errc::email_taken).
user_view insert_user(pqxx::work& tx, const std::string& id, const std::string& email,
                      const std::string& name, const std::string& password_hash,
                      const std::vector<std::string>& roles);

std::optional<user_row> find_user_by_email(pqxx::connection& conn, const std::string& email);
std::optional<user_row> find_user(pqxx::connection& conn, const std::string& id);
std::optional<user_row> find_user(pqxx::work& tx, const std::string& id);

/// Live users only (not deleted); nullopt if none.
std::optional<user_view> update_user_name(pqxx::work& tx, const std::string& id,
                                          const std::string& name);

void set_mfa_secret(pqxx::work& tx, const std::string& id, const std::string& sealed);

/// Records TOTP step `step` as used (and enables MFA if `enable`); false if a step at or after
/// it was used already (a replay, possibly concurrent).
bool use_mfa_step(pqxx::work& tx, const std::string& id, int64_t step, bool enable);

void set_avatar_type(pqxx::work& tx, const std::string& id, const std::string& type);

void insert_session_index(pqxx::work& tx, const std::string& sid, const std::string& user_id,
                          const std::string& ip);

/// The user a session was opened for ("" if unknown).
std::string session_owner(pqxx::work& tx, const std::string& sid);

/// The user of a session whose account is not being deleted ("" if none).
std::string session_live_owner(pqxx::connection& conn, const std::string& sid);

/// Counts a wrong MFA code; the `lock_after`-th in a row locks codes for `lock_seconds`.
/// Returns the count.
int record_mfa_failure(pqxx::work& tx, const std::string& id, int lock_after, int lock_seconds);

/// A right code: the count starts again.
void record_mfa_success(pqxx::work& tx, const std::string& id);

std::vector<session_record> user_sessions(pqxx::work& tx, const std::string& user_id);
std::vector<audit_record> user_audit(pqxx::work& tx, const std::string& user_id);

/// Marks the account deleted with `purge_after_ms`; false if it was already.
bool mark_deleted(pqxx::work& tx, const std::string& id, int64_t purge_after_ms);

/// Ids of deleted accounts whose grace period ended by `now_ms` (at most `limit`).
std::vector<std::string> due_for_purge(pqxx::connection& conn, int64_t now_ms, int limit);

/// Erases the user, the index and snapshots of its sessions, and anonymises its audit entries.
void purge_user(pqxx::work& tx, const std::string& id);

/// The orders of a user (from the order index), to anonymise before the purge.
std::vector<std::string> user_order_ids(pqxx::connection& conn, const std::string& user_id);

void append_audit(pqxx::work& tx, const audit_entry& e);

/// Appends every entry with one statement, in order.
void append_audit_rows(pqxx::work& tx, const std::vector<audit_entry>& rows);

} // namespace bookstore::pg
