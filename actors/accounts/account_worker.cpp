#include "actors/accounts/account_worker_state.hpp"

#include "actors/accounts/password.hpp"
#include "actors/accounts/totp.hpp"
#include "actors/common/crypto.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bookstore {

namespace accounts_detail {

audit_entry audit(const request_ctx& ctx, std::string actor, std::string action,
                  std::string subject, std::string ip, std::string detail) {
  return audit_entry{std::move(actor), std::move(action), std::move(subject), std::move(ip),
                     ctx.request_id, std::move(detail)};
}

/// Writes one audit entry in its own transaction (failures are logged: the action stands).
void record(worker_pointer self, const audit_entry& e) {
  auto r = guarded<bool>(self, e.request_id, "audit", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    pg::append_audit(tx, e);
    tx.commit();
    return true;
  });
  if (!r)
    log::error(*self->state.log, e.request_id, "audit entry {} lost: {}", e.action,
               to_string(r.error()));
}

void queue_audit(worker_pointer self, audit_entry e) {
  auto& st = self->state;
  st.audit_queue.push_back(std::move(e));
  if (!st.flush_pending) {
    st.flush_pending = true;
    self->send(self, audit_flush_atom::value);
  }
}

void flush_audit(worker_pointer self) {
  constexpr size_t max_rows = 1000;
  auto& st = self->state;
  st.flush_pending = false;
  while (!st.audit_queue.empty()) {
    auto n = std::min(st.audit_queue.size(), max_rows);
    std::vector<audit_entry> rows(std::make_move_iterator(st.audit_queue.begin()),
                                  std::make_move_iterator(st.audit_queue.begin() + n));
    st.audit_queue.erase(st.audit_queue.begin(), st.audit_queue.begin() + n);
    auto r = guarded<bool>(self, "-", "audit", [&](pqxx::connection& c) {
      pqxx::work tx{c};
      pg::append_audit_rows(tx, rows);
      tx.commit();
      return true;
    });
    if (r)
      continue;
    if (describe(r.error()).message == "database unreachable") {
      // PostgreSQL is away: keep the entries (up to a bound) and try again in a second.
      constexpr size_t max_queued = 100000;
      st.audit_queue.insert(st.audit_queue.begin(), std::make_move_iterator(rows.begin()),
                            std::make_move_iterator(rows.end()));
      if (st.audit_queue.size() > max_queued) {
        auto drop = st.audit_queue.size() - max_queued;
        log::error(*st.log, "-", "{} audit entries lost: PostgreSQL unreachable too long", drop);
        st.audit_queue.erase(st.audit_queue.begin(), st.audit_queue.begin() + drop);
      }
      st.flush_pending = true;
      self->delayed_send(self, std::chrono::seconds(1), audit_flush_atom::value);
      return;
    }
    for (auto& e : rows) record(self, e); // one bad row must not take the others with it
  }
}

/// The TOTP secret of `u`, decrypted; empty if none or unreadable.
std::string mfa_secret(worker_pointer self, const pg::user_row& u) {
  if (u.mfa_secret.empty())
    return {};
  auto plain = crypto::open(self->state.cfg.mfa_key, u.mfa_secret, u.view.id);
  if (!plain) {
    log::error(*self->state.log, "-", "MFA secret of {} cannot be decrypted (wrong auth.mfa-key?)",
               u.view.id);
    return {};
  }
  return *plain;
}

constexpr int mfa_lock_after = 5;          // wrong codes in a row
constexpr int mfa_lock_seconds = 15 * 60;

/// Password (and MFA, when enabled) of `u`; the error says what failed. Consumes the MFA step.
caf::error confirm(worker_pointer self, const request_ctx& ctx, const pg::user_row& u,
                   const std::string& pw, const std::string& code) {
  if (!password::verify(pw, u.password_hash))
    return make_error(errc::invalid_credentials, "", "wrong email or password");
  if (!u.view.mfa_enabled)
    return {};
  if (code.empty())
    return make_error(errc::mfa_required, "mfa_code", "this account needs an MFA code");
  if (u.mfa_locked)
    return make_error(errc::invalid_mfa_code, "mfa_code",
                      "too many wrong MFA codes; try again in a few minutes");
  auto secret = mfa_secret(self, u);
  if (secret.empty()) // not the user's fault (e.g. a changed auth.mfa-key): no count, no lock
    return make_error(errc::internal, "", "the MFA secret cannot be read");
  auto step = totp::accept(secret, code, self->state.now() / 1000, u.mfa_last_step);
  auto used = guarded<bool>(self, ctx.request_id, "MFA check", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    bool ok = step && pg::use_mfa_step(tx, u.view.id, *step, false);
    if (ok)
      pg::record_mfa_success(tx, u.view.id);
    else
      pg::record_mfa_failure(tx, u.view.id, mfa_lock_after, mfa_lock_seconds);
    tx.commit();
    return ok;
  });
  if (!used)
    return used.error();
  if (!*used)
    return make_error(errc::invalid_mfa_code, "mfa_code", "the MFA code is not valid");
  return {};
}

/// A request whose deadline passed while it queued: nobody waits for it, so no bcrypt for it.
caf::error expired(const request_ctx& ctx) {
  if (ctx.deadline_ms != 0 && ctx.deadline_ms <= unix_ms_now())
    return make_error(errc::timeout, "", "the request waited past its deadline");
  return {};
}

std::optional<pg::user_row> load_user(worker_pointer self, const request_ctx& ctx,
                                      const std::string& id, caf::error& err) {
  auto r = guarded<std::optional<pg::user_row>>(
    self, ctx.request_id, "find user", [&](pqxx::connection& c) { return pg::find_user(c, id); });
  if (!r) {
    err = r.error();
    return std::nullopt;
  }
  if (!*r || (*r)->deleted) {
    err = make_error(errc::not_found, id, "no such user");
    return std::nullopt;
  }
  return std::move(**r);
}

} // namespace accounts_detail

namespace {

using namespace accounts_detail;

account_worker_actor::behavior_type worker_impl(worker_pointer self, accounts_settings cfg,
                                                bool hashing) {
  if (cfg.detached && hashing) {
    // Hashing threads yield to the request threads: a burst of logins must not lift the
    // latency of everything else on a 2-core machine. (Linux: nice is per thread.)
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  }
  self->state.cfg = std::move(cfg);
  self->state.conn = std::make_unique<pg::lazy_connection>(self->state.cfg.dsn,
                                                           pg::prepare_account_statements);
  self->state.log = log::get("accounts");
  // Pays for the dummy hash now, not on the first login with an unknown email.
  if (hashing)
    password::verify_nothing(self->state.cfg.bcrypt_cost);
  return {
    [self](register_user& req) { return do_register(self, req); },
    [self](login_user& req) { return do_login(self, req); },
    [self](refresh_login& req) { return do_refresh(self, req); },
    [self](get_user& req) -> caf::result<user_view> {
      caf::error err;
      auto u = load_user(self, req.ctx, req.user_id, err);
      if (!u)
        return err;
      return u->view;
    },
    [self](update_user& req) -> caf::result<user_view> {
      auto r = guarded<std::optional<user_view>>(self, req.ctx.request_id, "update user",
                                                 [&](pqxx::connection& c) {
                                                   pqxx::work tx{c};
                                                   auto u = pg::update_user_name(tx, req.user_id,
                                                                                 req.name);
                                                   tx.commit();
                                                   return u;
                                                 });
      if (!r)
        return r.error();
      if (!*r)
        return make_error(errc::not_found, req.user_id, "no such user");
      return std::move(**r);
    },
    [self](setup_mfa& req) { return do_setup_mfa(self, req); },
    [self](enable_mfa& req) { return do_enable_mfa(self, req); },
    [self](delete_user& req) { return do_delete(self, req); },
    [self](export_user& req) { return do_export(self, req); },
    [self](put_avatar& req) { return do_put_avatar(self, req); },
    [self](get_avatar& req) { return do_get_avatar(self, req); },
    [self](audit_entry& e) { queue_audit(self, std::move(e)); },
    [self](audit_flush_atom) { flush_audit(self); },
    [self](purge_atom) { do_purge(self); },
    [self](bootstrap_atom) -> caf::result<bool> {
      try {
        return do_bootstrap(self);
      } catch (const std::exception& e) {
        return make_error(errc::storage_unavailable, "", e.what());
      }
    },
  };
}

} // namespace

account_worker_actor spawn_account_worker(caf::local_actor* parent, accounts_settings cfg,
                                          bool hashing) {
  if (cfg.detached)
    return parent->spawn<caf::detached + caf::linked>(worker_impl, std::move(cfg), hashing);
  return parent->spawn<caf::linked>(worker_impl, std::move(cfg), hashing);
}

} // namespace bookstore
