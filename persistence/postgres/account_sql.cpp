#include "persistence/postgres/account_sql.hpp"

#include "persistence/postgres/pg.hpp"

namespace bookstore::pg {

namespace {

#define USER_COLUMNS                                                                          \
  "id, email, name, roles, mfa_enabled, (extract(epoch FROM created_at) * 1000)::bigint,"    \
  " password_hash, coalesce(mfa_secret, ''::bytea), mfa_last_step, coalesce(avatar_type, ''),"\
  " deletion_requested_at IS NOT NULL, coalesce(mfa_locked_until > now(), false)"

constexpr const char* insert_sql
  = "INSERT INTO users (id, email, name, password_hash, roles)"
    " VALUES ($1, $2, $3, $4, $5::text[]) RETURNING " USER_COLUMNS;
constexpr const char* by_email_sql
  = "SELECT " USER_COLUMNS " FROM users WHERE lower(email) = lower($1)";
constexpr const char* by_id_sql = "SELECT " USER_COLUMNS " FROM users WHERE id = $1";
constexpr const char* update_name_sql
  = "UPDATE users SET name = $2, updated_at = now()"
    " WHERE id = $1 AND deletion_requested_at IS NULL RETURNING " USER_COLUMNS;
constexpr const char* set_mfa_secret_sql
  = "UPDATE users SET mfa_secret = $2, updated_at = now() WHERE id = $1";
// Checked again here, not only when the row was read: attempts that were hashing while the
// lock was set must not get past it.
constexpr const char* use_mfa_step_sql
  = "UPDATE users SET mfa_last_step = $2, mfa_enabled = mfa_enabled OR $3, updated_at = now()"
    " WHERE id = $1 AND mfa_last_step < $2"
    " AND (mfa_locked_until IS NULL OR mfa_locked_until <= now()) RETURNING id";
constexpr const char* set_avatar_sql
  = "UPDATE users SET avatar_type = $2, updated_at = now() WHERE id = $1";
constexpr const char* insert_session_sql
  = "INSERT INTO user_sessions (id, user_id, ip) VALUES ($1, $2, nullif($3, ''))";
constexpr const char* session_owner_sql = "SELECT user_id FROM user_sessions WHERE id = $1";
constexpr const char* session_live_owner_sql
  = "SELECT s.user_id FROM user_sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.id = $1 AND u.deletion_requested_at IS NULL";
// A lock that ran out starts the count again (one typo after a lock is not a new lock).
#define MFA_FAILURES_NEXT                                                                      \
  "(CASE WHEN mfa_locked_until <= now() THEN 1 ELSE mfa_failures + 1 END)"
constexpr const char* mfa_failed_sql
  = "UPDATE users SET mfa_failures = " MFA_FAILURES_NEXT ","
    " mfa_locked_until = CASE WHEN " MFA_FAILURES_NEXT " >= $2"
    "   THEN now() + make_interval(secs => $3)"
    "   WHEN mfa_locked_until <= now() THEN NULL ELSE mfa_locked_until END"
    " WHERE id = $1 RETURNING mfa_failures";
#undef MFA_FAILURES_NEXT
constexpr const char* mfa_passed_sql
  = "UPDATE users SET mfa_failures = 0, mfa_locked_until = NULL WHERE id = $1";
constexpr const char* sessions_sql
  = "SELECT id, (extract(epoch FROM created_at) * 1000)::bigint, coalesce(ip, '')"
    " FROM user_sessions WHERE user_id = $1 ORDER BY created_at";
constexpr const char* audit_sql
  = "SELECT (extract(epoch FROM at) * 1000)::bigint, action, coalesce(subject_id, ''),"
    " coalesce(ip, ''), coalesce(request_id, '') FROM audit_log"
    " WHERE actor_id = $1 OR subject_id = $1 ORDER BY id";
constexpr const char* mark_deleted_sql
  = "UPDATE users SET deletion_requested_at = now(),"
    " purge_after = to_timestamp($2::double precision / 1000), updated_at = now()"
    " WHERE id = $1 AND deletion_requested_at IS NULL RETURNING id";
constexpr const char* due_sql
  = "SELECT id FROM users WHERE purge_after <= to_timestamp($1::double precision / 1000)"
    " ORDER BY purge_after LIMIT $2";
constexpr const char* purge_snapshots_sql
  = "DELETE FROM entity_snapshots WHERE entity_type = 'user_session'"
    " AND entity_id IN (SELECT id FROM user_sessions WHERE user_id = $1)";
constexpr const char* purge_orders_sql
  = "UPDATE orders SET ip = NULL, user_id = 'usr_deleted' WHERE user_id = $1";
constexpr const char* user_orders_sql = "SELECT id FROM orders WHERE user_id = $1";
constexpr const char* purge_audit_sql
  = "UPDATE audit_log SET"
    " actor_id = NULL, subject_id = NULL, ip = NULL, detail = '{}'::jsonb"
    " WHERE actor_id = $1 OR subject_id = $1";
constexpr const char* purge_user_sql = "DELETE FROM users WHERE id = $1";
constexpr const char* audit_insert_sql
  = "INSERT INTO audit_log (actor_id, action, subject_id, ip, request_id, detail)"
    " VALUES (nullif($1, ''), $2, nullif($3, ''), nullif($4, ''), nullif($5, ''),"
    " coalesce(nullif($6, ''), '{}')::jsonb)";

constexpr const char* audit_rows_sql
  = "INSERT INTO audit_log (actor_id, action, subject_id, ip, request_id, detail)"
    " SELECT nullif(a, ''), b, nullif(c, ''), nullif(d, ''), nullif(e, ''),"
    " coalesce(nullif(f, ''), '{}')::jsonb"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
    " WITH ORDINALITY AS t(a, b, c, d, e, f, n) ORDER BY n";

#undef USER_COLUMNS

user_row to_user(const pqxx::row& row) {
  user_row u;
  u.view.id = row[0].as<std::string>();
  u.view.email = row[1].as<std::string>();
  u.view.name = row[2].as<std::string>();
  u.view.roles = text_array(row[3]);
  u.view.mfa_enabled = row[4].as<bool>();
  u.view.created_at = row[5].as<int64_t>();
  u.password_hash = row[6].as<std::string>();
  u.mfa_secret = pqxx::binarystring{row[7]}.str();
  u.mfa_last_step = row[8].as<int64_t>();
  u.avatar_type = row[9].as<std::string>();
  u.deleted = row[10].as<bool>();
  u.mfa_locked = row[11].as<bool>();
  return u;
}

} // namespace

void prepare_account_statements(pqxx::connection& conn) {
  conn.prepare("user_insert", insert_sql);
  conn.prepare("user_by_email", by_email_sql);
  conn.prepare("user_by_id", by_id_sql);
  conn.prepare("user_update_name", update_name_sql);
  conn.prepare("user_set_mfa_secret", set_mfa_secret_sql);
  conn.prepare("user_use_mfa_step", use_mfa_step_sql);
  conn.prepare("user_set_avatar", set_avatar_sql);
  conn.prepare("session_insert", insert_session_sql);
  conn.prepare("user_sessions", sessions_sql);
  conn.prepare("session_owner", session_owner_sql);
  conn.prepare("session_live_owner", session_live_owner_sql);
  conn.prepare("mfa_failed", mfa_failed_sql);
  conn.prepare("mfa_passed", mfa_passed_sql);
  conn.prepare("user_audit", audit_sql);
  conn.prepare("user_mark_deleted", mark_deleted_sql);
  conn.prepare("user_due", due_sql);
  conn.prepare("purge_snapshots", purge_snapshots_sql);
  conn.prepare("purge_audit", purge_audit_sql);
  conn.prepare("purge_orders", purge_orders_sql);
  conn.prepare("user_orders", user_orders_sql);
  conn.prepare("purge_user", purge_user_sql);
  conn.prepare("audit_insert", audit_insert_sql);
  conn.prepare("audit_rows", audit_rows_sql);
}

user_view insert_user(pqxx::work& tx, const std::string& id, const std::string& email,
                      const std::string& name, const std::string& password_hash,
                      const std::vector<std::string>& roles) {
  try {
    auto rows = tx.exec_prepared("user_insert", id, email, name, password_hash,
                                 array_literal(roles));
    return to_user(rows[0]).view;
  } catch (const pqxx::unique_violation&) {
    throw failure{make_error(errc::email_taken, "email", "an account with this email exists")};
  }
}

std::optional<user_row> find_user_by_email(pqxx::connection& conn, const std::string& email) {
  pqxx::read_transaction tx{conn};
  auto rows = tx.exec_prepared("user_by_email", email);
  if (rows.empty())
    return std::nullopt;
  return to_user(rows[0]);
}

std::optional<user_row> find_user(pqxx::connection& conn, const std::string& id) {
  pqxx::read_transaction tx{conn};
  auto rows = tx.exec_prepared("user_by_id", id);
  if (rows.empty())
    return std::nullopt;
  return to_user(rows[0]);
}

std::optional<user_row> find_user(pqxx::work& tx, const std::string& id) {
  auto rows = tx.exec_prepared("user_by_id", id);
  if (rows.empty())
    return std::nullopt;
  return to_user(rows[0]);
}

std::optional<user_view> update_user_name(pqxx::work& tx, const std::string& id,
                                          const std::string& name) {
  auto rows = tx.exec_prepared("user_update_name", id, name);
  if (rows.empty())
    return std::nullopt;
  return to_user(rows[0]).view;
}

void set_mfa_secret(pqxx::work& tx, const std::string& id, const std::string& sealed) {
  tx.exec_prepared("user_set_mfa_secret", id, pqxx::binarystring{sealed});
}

bool use_mfa_step(pqxx::work& tx, const std::string& id, int64_t step, bool enable) {
  return !tx.exec_prepared("user_use_mfa_step", id, step, enable).empty();
}

void set_avatar_type(pqxx::work& tx, const std::string& id, const std::string& type) {
  tx.exec_prepared("user_set_avatar", id, type);
}

void insert_session_index(pqxx::work& tx, const std::string& sid, const std::string& user_id,
                          const std::string& ip) {
  tx.exec_prepared("session_insert", sid, user_id, ip);
}

std::string session_owner(pqxx::work& tx, const std::string& sid) {
  auto rows = tx.exec_prepared("session_owner", sid);
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

std::string session_live_owner(pqxx::connection& conn, const std::string& sid) {
  pqxx::read_transaction tx{conn};
  auto rows = tx.exec_prepared("session_live_owner", sid);
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

int record_mfa_failure(pqxx::work& tx, const std::string& id, int lock_after, int lock_seconds) {
  auto rows = tx.exec_prepared("mfa_failed", id, lock_after, lock_seconds);
  return rows.empty() ? 0 : rows[0][0].as<int>();
}

void record_mfa_success(pqxx::work& tx, const std::string& id) {
  tx.exec_prepared("mfa_passed", id);
}

std::vector<session_record> user_sessions(pqxx::work& tx, const std::string& user_id) {
  std::vector<session_record> out;
  for (auto row : tx.exec_prepared("user_sessions", user_id))
    out.push_back(session_record{row[0].as<std::string>(), row[1].as<int64_t>(),
                                 row[2].as<std::string>()});
  return out;
}

std::vector<audit_record> user_audit(pqxx::work& tx, const std::string& user_id) {
  std::vector<audit_record> out;
  for (auto row : tx.exec_prepared("user_audit", user_id))
    out.push_back(audit_record{row[0].as<int64_t>(), row[1].as<std::string>(),
                               row[2].as<std::string>(), row[3].as<std::string>(),
                               row[4].as<std::string>()});
  return out;
}

bool mark_deleted(pqxx::work& tx, const std::string& id, int64_t purge_after_ms) {
  return !tx.exec_prepared("user_mark_deleted", id, purge_after_ms).empty();
}

std::vector<std::string> due_for_purge(pqxx::connection& conn, int64_t now_ms, int limit) {
  pqxx::read_transaction tx{conn};
  std::vector<std::string> out;
  for (auto row : tx.exec_prepared("user_due", now_ms, limit))
    out.push_back(row[0].as<std::string>());
  return out;
}

void purge_user(pqxx::work& tx, const std::string& id) {
  tx.exec_prepared("purge_snapshots", id);
  tx.exec_prepared("purge_audit", id);
  tx.exec_prepared("purge_orders", id);
  tx.exec_prepared("purge_user", id);
}

std::vector<std::string> user_order_ids(pqxx::connection& conn, const std::string& user_id) {
  pqxx::read_transaction tx{conn};
  std::vector<std::string> out;
  for (const auto& row : tx.exec_prepared("user_orders", user_id))
    out.push_back(row[0].as<std::string>());
  return out;
}

void append_audit(pqxx::work& tx, const audit_entry& e) {
  tx.exec_prepared("audit_insert", e.actor_id, e.action, e.subject_id, e.ip, e.request_id,
                   e.detail_json);
}

void append_audit_rows(pqxx::work& tx, const std::vector<audit_entry>& rows) {
  std::vector<std::string> actor, action, subject, ip, rid, detail;
  for (auto& e : rows) {
    actor.push_back(e.actor_id);
    action.push_back(e.action);
    subject.push_back(e.subject_id);
    ip.push_back(e.ip);
    rid.push_back(e.request_id);
    detail.push_back(e.detail_json);
  }
  tx.exec_prepared("audit_rows", array_literal(actor), array_literal(action),
                   array_literal(subject), array_literal(ip), array_literal(rid),
                   array_literal(detail));
}

} // namespace bookstore::pg
