#include "actors/accounts/account_worker_state.hpp"

#include "actors/accounts/avatar_files.hpp"
#include "actors/accounts/password.hpp"
#include "actors/accounts/totp.hpp"
#include "actors/common/crypto.hpp"
#include "actors/common/ids.hpp"

namespace bookstore::accounts_detail {

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

namespace {

/// Erases the account `id` (its orders are anonymised by then).
void erase_account(worker_pointer self, const std::string& id) {
  avatar_files::erase(self->state.cfg.avatar_dir, id);
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

} // namespace

void do_purge(worker_pointer self) {
  auto& cfg = self->state.cfg;
  auto due = guarded<std::vector<std::string>>(self, "-", "find purges", [&](pqxx::connection& c) {
    return pg::due_for_purge(c, self->state.now(), 100);
  });
  if (!due)
    return;
  for (auto& id : *due) {
    auto orders = guarded<std::vector<std::string>>(self, "-", "find orders", [&](pqxx::connection& c) {
      return pg::user_order_ids(c, id);
    });
    if (!orders)
      continue;
    auto region = cfg.orders.get();
    if (orders->empty() || !region) {
      if (orders->empty())
        erase_account(self, id);
      continue; // orders but no region (restarting): the next run tries again
    }
    // The account goes once every order has forgotten its owner; a failure leaves it for the
    // next run (anonymising is repeat-safe).
    auto left = std::make_shared<size_t>(orders->size());
    auto failed = std::make_shared<bool>(false);
    for (auto& order_id : *orders)
      self->request(region, std::chrono::seconds(30),
                    anonymise_order{request_ctx{"purge", 0, ""}, order_id})
        .then(
          [self, id, left, failed](order_view&) {
            if (--*left == 0 && !*failed)
              erase_account(self, id);
          },
          [self, left, failed](caf::error& err) {
            *failed = true;
            --*left;
            log::warn(*self->state.log, "-", "anonymising an order before a purge failed: {}",
                      to_string(err));
          });
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

} // namespace bookstore::accounts_detail
