#pragma once

// Inside the accounts workers (actors/accounts/account_worker.hpp): their state and the helpers
// the request handlers share. The handlers are split by concern: account_sessions.cpp
// (credentials and sessions), account_data.cpp (MFA, avatars, export, purge, bootstrap).

#include "actors/accounts/account_worker.hpp"
#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "persistence/postgres/account_sql.hpp"
#include "persistence/postgres/pg.hpp"

#include <caf/all.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bookstore {

struct account_worker_state {
  accounts_settings cfg;
  std::unique_ptr<pg::lazy_connection> conn;
  std::shared_ptr<spdlog::logger> log;
  /// Audit entries told by the gateway, written together by the next audit_flush (everything
  /// that arrived meanwhile is in the mailbox before it: one transaction per burst).
  std::vector<audit_entry> audit_queue;
  bool flush_pending = false;
  static inline const char* name = "account_worker";

  int64_t now() const { return cfg.clock ? cfg.clock() : unix_ms_now(); }
};

namespace accounts_detail {

using worker_pointer = account_worker_actor::stateful_pointer<account_worker_state>;

inline const std::vector<std::string> customer_roles{"customer"};
inline const std::vector<std::string> admin_roles{"admin", "customer", "operator"};

/// Runs `body` on the worker's connection; database failures become errors, not exceptions.
template <class T, class F>
caf::expected<T> guarded(worker_pointer self, const std::string& rid, const char* what, F body) {
  try {
    return pg::run(*self->state.conn, body);
  } catch (const pg::failure& f) {
    return f.err;
  } catch (const std::exception& e) {
    log::warn(*self->state.log, rid, "{} failed: {}", what, e.what());
    return make_error(errc::storage_unavailable, "", "database failure");
  }
}

/// An audit line for `ctx`'s request.
audit_entry audit(const request_ctx& ctx, std::string actor, std::string action,
                  std::string subject, std::string ip, std::string detail = {});

/// Writes one audit entry in its own transaction (failures are logged: the action stands).
void record(worker_pointer self, const audit_entry& e);

/// Password (and MFA, when enabled) of `u`; the error says what failed. Consumes the MFA step;
/// counts wrong codes (5 in a row lock the account's codes for 15 minutes).
caf::error confirm(worker_pointer self, const request_ctx& ctx, const pg::user_row& u,
                   const std::string& pw, const std::string& code);

/// Queues a told audit entry; flush_audit writes the queue.
void queue_audit(worker_pointer self, audit_entry e);
void flush_audit(worker_pointer self);

/// The TOTP secret of `u`, decrypted; empty if none or unreadable.
std::string mfa_secret(worker_pointer self, const pg::user_row& u);

/// A request whose deadline passed while it queued: nobody waits for it, so no bcrypt for it.
caf::error expired(const request_ctx& ctx);

/// The live (not deleted) user `id`, or nothing with `err` set.
std::optional<pg::user_row> load_user(worker_pointer self, const request_ctx& ctx,
                                      const std::string& id, caf::error& err);

// account_sessions.cpp
caf::result<user_view> do_register(worker_pointer self, register_user& req);
caf::result<login_grant> do_login(worker_pointer self, login_user& req);
caf::result<login_grant> do_refresh(worker_pointer self, refresh_login& req);
caf::result<deletion_receipt> do_delete(worker_pointer self, delete_user& req);

// account_data.cpp
caf::result<mfa_enrollment> do_setup_mfa(worker_pointer self, setup_mfa& req);
caf::result<user_view> do_enable_mfa(worker_pointer self, enable_mfa& req);
caf::result<user_export> do_export(worker_pointer self, export_user& req);
caf::result<avatar> do_put_avatar(worker_pointer self, put_avatar& req);
caf::result<avatar> do_get_avatar(worker_pointer self, get_avatar& req);
void do_purge(worker_pointer self);
bool do_bootstrap(worker_pointer self);

} // namespace accounts_detail

} // namespace bookstore
