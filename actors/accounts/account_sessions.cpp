#include "actors/accounts/account_worker_state.hpp"

#include "actors/accounts/password.hpp"
#include "actors/common/crypto.hpp"
#include "actors/common/ids.hpp"

namespace bookstore::accounts_detail {

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
  // The deletion is durable: answer now, and end every session in the background. Nothing
  // depends on how long that takes: refresh refuses deleted accounts, the account's data answers
  // 404, and the gateway revokes every session id below for its access tokens' life.
  if (auto sessions = self->state.cfg.sessions.get())
    for (auto& sid : receipt.session_ids)
      self->request(sessions, self->state.cfg.session_timeout, end_session{req.ctx, sid})
        .then([](session_view&) {},
              [self, sid, rid = req.ctx.request_id](caf::error& e) {
                log::warn(*self->state.log, rid, "ending session {} failed: {}", sid,
                          to_string(e));
              });
  return receipt;
}

} // namespace bookstore::accounts_detail
