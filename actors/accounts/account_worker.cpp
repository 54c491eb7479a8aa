#include "actors/accounts/account_worker.hpp"

#include "actors/accounts/avatar_files.hpp"
#include "actors/accounts/password.hpp"
#include "actors/accounts/totp.hpp"
#include "actors/common/crypto.hpp"
#include "actors/common/ids.hpp"
#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "persistence/postgres/account_sql.hpp"
#include "persistence/postgres/pg.hpp"

#include <caf/all.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bookstore {

struct account_worker_state {
  accounts_settings cfg;
  std::unique_ptr<pg::lazy_connection> conn;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "account_worker";

  int64_t now() const { return cfg.clock ? cfg.clock() : unix_ms_now(); }
};

namespace {

using worker_pointer = account_worker_actor::stateful_pointer<account_worker_state>;

const std::vector<std::string> customer_roles{"customer"};
const std::vector<std::string> admin_roles{"admin", "customer", "operator"};

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

audit_entry audit(const request_ctx& ctx, std::string actor, std::string action,
                  std::string subject, std::string ip, std::string detail = {}) {
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
  auto step = totp::accept(secret, code, self->state.now() / 1000, u.mfa_last_step);
  auto used = guarded<bool>(self, ctx.request_id, "MFA check", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    bool ok = !secret.empty() && step && pg::use_mfa_step(tx, u.view.id, *step, false);
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

caf::result<user_view> do_register(worker_pointer self, register_user& req) {
  if (auto err = expired(req.ctx))
    return err;
  auto& cfg = self->state.cfg;
  auto hash = password::hash(req.password, cfg.bcrypt_cost);
  if (!hash)
    return make_error(errc::internal, "", "password hashing failed");
  auto id = ids::make("usr");
  auto r = guarded<user_view>(self, req.ctx.request_id, "register", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    auto u = pg::insert_user(tx, id, req.email, req.name, *hash, customer_roles);
    pg::append_audit(tx, audit(req.ctx, id, "user.registered", id, req.ip));
    tx.commit();
    return u;
  });
  if (!r)
    return r.error();
  return std::move(*r);
}

caf::result<login_grant> do_login(worker_pointer self, login_user& req) {
  if (auto err = expired(req.ctx))
    return err;
  auto& cfg = self->state.cfg;
  auto found = guarded<std::optional<pg::user_row>>(
    self, req.ctx.request_id, "find user",
    [&](pqxx::connection& c) { return pg::find_user_by_email(c, req.email); });
  if (!found)
    return found.error();
  if (!*found || (*found)->deleted) {
    // The same work and the same answer as a wrong password: no telling which emails exist.
    if (!*found)
      password::verify_nothing(cfg.bcrypt_cost);
    else
      (void) password::verify(req.password, (*found)->password_hash);
    record(self, audit(req.ctx, *found ? (*found)->view.id : "", "auth.login_failed", "",
                       req.ip));
    return make_error(errc::invalid_credentials, "", "wrong email or password");
  }
  auto& u = **found;
  if (auto err = confirm(self, req.ctx, u, req.password, req.mfa_code)) {
    if (describe(err).code != errc::mfa_required)
      record(self, audit(req.ctx, u.view.id, "auth.login_failed", "", req.ip));
    return err;
  }
  login_grant grant{u.view.id, u.view.roles, ids::make("ses"), {}};
  auto secret = crypto::random_token(32);
  grant.refresh_token = grant.session_id + "." + secret;
  auto indexed = guarded<bool>(self, req.ctx.request_id, "login", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    pg::insert_session_index(tx, grant.session_id, u.view.id, req.ip);
    pg::append_audit(tx, audit(req.ctx, u.view.id, "auth.login", grant.session_id, req.ip));
    tx.commit();
    return true;
  });
  if (!indexed)
    return indexed.error();
  auto sessions = cfg.sessions.get();
  if (!sessions)
    return make_error(errc::unavailable, "", "sessions are restarting");
  open_session open{req.ctx,
                    grant.session_id,
                    u.view.id,
                    u.view.roles,
                    crypto::sha256_hex(secret),
                    req.ip,
                    self->state.now() + cfg.refresh_ttl_ms,
                    u.view.mfa_enabled};
  auto rp = self->make_response_promise<login_grant>();
  self->request(sessions, cfg.session_timeout, std::move(open))
    .then([rp, grant](session_view&) mutable { rp.deliver(std::move(grant)); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::result<login_grant> do_refresh(worker_pointer self, refresh_login& req) {
  auto& cfg = self->state.cfg;
  auto dot = req.refresh_token.find('.');
  auto sid = req.refresh_token.substr(0, dot);
  if (dot == std::string::npos || !ids::well_formed(sid, "ses") || dot + 1 >= req.refresh_token.size())
    return make_error(errc::unauthenticated, "", "the refresh token is not valid");
  // Only sessions of accounts that are not being deleted (and only sessions that exist: a made-up
  // id never activates an entity).
  auto owner = guarded<std::string>(self, req.ctx.request_id, "session owner",
                                    [&](pqxx::connection& c) { return pg::session_live_owner(c, sid); });
  if (!owner)
    return owner.error();
  if (owner->empty())
    return make_error(errc::unauthenticated, "", "the refresh token is not valid");
  auto sessions = cfg.sessions.get();
  if (!sessions)
    return make_error(errc::unavailable, "", "sessions are restarting");
  auto next = crypto::random_token(32);
  refresh_session msg{req.ctx,
                      sid,
                      crypto::sha256_hex(req.refresh_token.substr(dot + 1)),
                      crypto::sha256_hex(next),
                      req.ip,
                      self->state.now() + cfg.refresh_ttl_ms};
  auto rp = self->make_response_promise<login_grant>();
  self->request(sessions, cfg.session_timeout, std::move(msg))
    .then(
      [rp, sid, next](session_view& v) mutable {
        rp.deliver(login_grant{v.user_id, v.roles, sid, sid + "." + next});
      },
      [self, rp, sid, ctx = req.ctx, ip = req.ip](caf::error& err) mutable {
        auto info = describe(err);
        if (info.code == errc::unauthenticated && info.detail == "refresh_reuse") {
          auto owner = guarded<std::string>(self, ctx.request_id, "session owner",
                                            [&](pqxx::connection& c) {
                                              pqxx::work tx{c};
                                              return pg::session_owner(tx, sid);
                                            });
          record(self, audit(ctx, owner ? *owner : "", "auth.refresh_reuse", sid, ip));
          log::warn(*self->state.log, ctx.request_id,
                    "refresh token reused: session {} revoked", sid);
          rp.deliver(make_error(errc::unauthenticated, "refresh_reuse:" + sid,
                                "the refresh token was already used; the session is revoked"));
          return;
        }
        rp.deliver(std::move(err));
      });
  return rp;
}

caf::result<mfa_enrollment> do_setup_mfa(worker_pointer self, setup_mfa& req) {
  caf::error err;
  auto u = load_user(self, req.ctx, req.user_id, err);
  if (!u)
    return err;
  if (u->view.mfa_enabled)
    return make_error(errc::invalid_state, "", "MFA is already enabled");
  auto secret = totp::new_secret();
  auto sealed = crypto::seal(self->state.cfg.mfa_key, secret, u->view.id);
  auto r = guarded<bool>(self, req.ctx.request_id, "MFA setup", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    pg::set_mfa_secret(tx, u->view.id, sealed);
    pg::append_audit(tx, audit(req.ctx, u->view.id, "mfa.setup", u->view.id, req.ip));
    tx.commit();
    return true;
  });
  if (!r)
    return r.error();
  return mfa_enrollment{totp::base32(secret),
                        totp::uri(self->state.cfg.issuer, u->view.email, secret)};
}

caf::result<user_view> do_enable_mfa(worker_pointer self, enable_mfa& req) {
  caf::error err;
  auto u = load_user(self, req.ctx, req.user_id, err);
  if (!u)
    return err;
  if (u->view.mfa_enabled)
    return make_error(errc::invalid_state, "", "MFA is already enabled");
  auto secret = mfa_secret(self, *u);
  if (secret.empty())
    return make_error(errc::invalid_state, "", "call POST /v1/me/mfa/setup first");
  auto step = totp::accept(secret, req.code, self->state.now() / 1000, u->mfa_last_step);
  if (!step)
    return make_error(errc::invalid_mfa_code, "code", "the MFA code is not valid");
  auto r = guarded<bool>(self, req.ctx.request_id, "MFA enable", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    auto ok = pg::use_mfa_step(tx, u->view.id, *step, true);
    if (ok)
      pg::append_audit(tx, audit(req.ctx, u->view.id, "mfa.enabled", u->view.id, req.ip));
    tx.commit();
    return ok;
  });
  if (!r)
    return r.error();
  if (!*r)
    return make_error(errc::invalid_mfa_code, "code", "the MFA code was already used");
  u->view.mfa_enabled = true;
  return u->view;
}

caf::result<deletion_receipt> do_delete(worker_pointer self, delete_user& req) {
  if (auto late = expired(req.ctx))
    return late;
  caf::error err;
  auto u = load_user(self, req.ctx, req.user_id, err);
  if (!u)
    return err;
  if (auto bad = confirm(self, req.ctx, *u, req.password, req.mfa_code)) {
    record(self, audit(req.ctx, u->view.id, "user.deletion_refused", u->view.id, req.ip));
    return bad;
  }
  deletion_receipt receipt;
  receipt.purge_after = self->state.now() + self->state.cfg.deletion_grace_ms;
  auto r = guarded<bool>(self, req.ctx.request_id, "delete user", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    receipt.session_ids.clear();
    if (!pg::mark_deleted(tx, u->view.id, receipt.purge_after))
      throw pg::failure{make_error(errc::not_found, u->view.id, "no such user")};
    for (auto& s : pg::user_sessions(tx, u->view.id)) receipt.session_ids.push_back(s.id);
    pg::append_audit(tx, audit(req.ctx, u->view.id, "user.deletion_scheduled", u->view.id,
                               req.ip));
    tx.commit();
    return true;
  });
  if (!r)
    return r.error();
  // Every session ends before the answer; the gateway also revokes them in Redis for their
  // access tokens' life. A session that could not be told is still dead: refresh refuses
  // deleted accounts, and the account's data answers 404.
  auto sessions = self->state.cfg.sessions.get();
  if (!sessions || receipt.session_ids.empty())
    return receipt;
  auto rp = self->make_response_promise<deletion_receipt>();
  auto left = std::make_shared<size_t>(receipt.session_ids.size());
  for (auto& sid : receipt.session_ids) {
    auto done = [self, rp, left, receipt, sid, rid = req.ctx.request_id](caf::error err) mutable {
      if (err)
        log::warn(*self->state.log, rid, "ending session {} failed: {}", sid, to_string(err));
      if (--*left == 0)
        rp.deliver(receipt);
    };
    self->request(sessions, self->state.cfg.session_timeout, end_session{req.ctx, sid})
      .then([done](session_view&) mutable { done({}); },
            [done](caf::error& e) mutable { done(e); });
  }
  return rp;
}

caf::result<user_export> do_export(worker_pointer self, export_user& req) {
  caf::error err;
  auto u = load_user(self, req.ctx, req.user_id, err);
  if (!u)
    return err;
  auto r = guarded<user_export>(self, req.ctx.request_id, "export", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    pg::append_audit(tx, audit(req.ctx, u->view.id, "user.exported", u->view.id, req.ip));
    user_export out{u->view, pg::user_sessions(tx, u->view.id), pg::user_audit(tx, u->view.id)};
    tx.commit();
    return out;
  });
  if (!r)
    return r.error();
  return std::move(*r);
}

caf::result<avatar> do_put_avatar(worker_pointer self, put_avatar& req) {
  caf::error err;
  auto u = load_user(self, req.ctx, req.user_id, err);
  if (!u)
    return err;
  try {
    avatar_files::store(self->state.cfg.avatar_dir, u->view.id, req.image.bytes);
  } catch (const std::exception& e) {
    log::error(*self->state.log, req.ctx.request_id, "storing avatar failed: {}", e.what());
    return make_error(errc::unavailable, "", "the picture could not be stored");
  }
  auto r = guarded<bool>(self, req.ctx.request_id, "avatar", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    pg::set_avatar_type(tx, u->view.id, req.image.content_type);
    tx.commit();
    return true;
  });
  if (!r)
    return r.error();
  return avatar{req.image.content_type, {}};
}

caf::result<avatar> do_get_avatar(worker_pointer self, get_avatar& req) {
  caf::error err;
  auto u = load_user(self, req.ctx, req.user_id, err);
  if (!u || u->avatar_type.empty())
    return make_error(errc::not_found, req.user_id, "no picture");
  auto bytes = avatar_files::load(self->state.cfg.avatar_dir, u->view.id);
  if (!bytes)
    return make_error(errc::not_found, req.user_id, "no picture");
  return avatar{u->avatar_type, std::move(*bytes)};
}

void do_purge(worker_pointer self) {
  auto& cfg = self->state.cfg;
  auto due = guarded<std::vector<std::string>>(self, "-", "find purges", [&](pqxx::connection& c) {
    return pg::due_for_purge(c, self->state.now(), 100);
  });
  if (!due)
    return;
  for (auto& id : *due) {
    avatar_files::erase(cfg.avatar_dir, id);
    auto r = guarded<bool>(self, "-", "purge", [&](pqxx::connection& c) {
      pqxx::work tx{c};
      pg::purge_user(tx, id);
      pg::append_audit(tx, audit_entry{"", "user.purged", "", "", "", ""});
      tx.commit();
      return true;
    });
    if (r)
      log::info(*self->state.log, "-", "purged a deleted account");
  }
}

bool do_bootstrap(worker_pointer self) {
  auto& cfg = self->state.cfg;
  if (cfg.bootstrap_email.empty())
    return false;
  auto email = cfg.bootstrap_email;
  for (auto& ch : email)
    if (ch >= 'A' && ch <= 'Z')
      ch = static_cast<char>(ch - 'A' + 'a');
  auto found = guarded<std::optional<pg::user_row>>(self, "-", "bootstrap", [&](pqxx::connection& c) {
    return pg::find_user_by_email(c, email);
  });
  if (!found)
    throw std::runtime_error(to_string(found.error()));
  if (*found)
    return true;
  auto hash = password::hash(cfg.bootstrap_password, cfg.bcrypt_cost);
  if (!hash)
    throw std::runtime_error("password hashing failed");
  auto id = ids::make("usr");
  auto r = guarded<bool>(self, "-", "bootstrap", [&](pqxx::connection& c) {
    pqxx::work tx{c};
    pg::insert_user(tx, id, email, "Administrator", *hash, admin_roles);
    pg::append_audit(tx, audit_entry{"", "user.registered", id, "", "", R"({"bootstrap":true})"});
    pg::append_audit(tx, audit_entry{"", "role.granted", id, "", "",
                                     R"({"roles":["admin","operator"],"by":"bootstrap"})"});
    tx.commit();
    return true;
  });
  if (!r && describe(r.error()).code != errc::email_taken) // another node was first: fine
    throw std::runtime_error(to_string(r.error()));
  log::info(*self->state.log, "-", "bootstrap admin {} created", email);
  return true;
}


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
    [self](audit_entry& e) { record(self, e); },
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
