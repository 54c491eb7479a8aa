#include "actors/accounts/accounts.hpp"

#include "actors/accounts/account_worker.hpp"
#include "actors/common/log.hpp"
#include "actors/common/restart_budget.hpp"
#include "actors/protocol/errc.hpp"

#include <caf/all.hpp>

namespace bookstore {

namespace {

using purge_tick_atom = caf::atom_constant<caf::atom("purgetick")>;

struct front_state {
  accounts_settings settings;
  /// bcrypt work (register, login, deletion, bootstrap), at the lowest CPU priority.
  std::vector<account_worker_actor> hashers;
  /// Everything else (profile, MFA, avatars, export, refresh, audit, purge): never queued
  /// behind a burst of logins. One worker, so a user's avatar writes never race.
  account_worker_actor light;
  size_t next = 0;
  restart_budget restarts;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "accounts";
};

using front_actor = accounts_actor::extend<caf::reacts_to<purge_tick_atom>>;
using front_pointer = front_actor::stateful_pointer<front_state>;

account_worker_actor& hasher(front_pointer self) {
  auto& st = self->state;
  return st.hashers[st.next++ % st.hashers.size()];
}

/// Messages that need bcrypt go to a hasher, the rest to the light worker.
template <class Msg>
auto forward(front_pointer self, bool hashing) {
  return [self, hashing](Msg& msg) {
    return self->delegate(hashing ? hasher(self) : self->state.light, std::move(msg));
  };
}

front_actor::behavior_type front_impl(front_pointer self, accounts_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.log = log::get("accounts");
  for (size_t i = 0; i < std::max<size_t>(1, st.settings.workers); ++i)
    st.hashers.push_back(spawn_account_worker(self, st.settings, true));
  st.light = spawn_account_worker(self, st.settings, false);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    auto restart = [&](account_worker_actor& w, bool hashing) {
      log::warn(*st.log, "-", "accounts worker stopped ({})", to_string(msg.reason));
      if (!st.restarts.spend(self->clock().now()))
        return self->quit(make_error(errc::storage_unavailable, "", "accounts workers keep failing"));
      w = spawn_account_worker(self, st.settings, hashing);
    };
    if (st.light.address() == msg.source)
      return restart(st.light, false);
    for (auto& w : st.hashers)
      if (w.address() == msg.source)
        return restart(w, true);
    self->quit(msg.reason);
  });
  self->delayed_send(self, st.settings.purge_interval, purge_tick_atom::value);
  return {
    [self](bootstrap_atom x) { return self->delegate(hasher(self), x); },
    forward<register_user>(self, true),
    forward<login_user>(self, true),
    forward<delete_user>(self, true),
    forward<refresh_login>(self, false),
    forward<get_user>(self, false),
    forward<update_user>(self, false),
    forward<setup_mfa>(self, false),
    forward<enable_mfa>(self, false),
    forward<export_user>(self, false),
    forward<put_avatar>(self, false),
    forward<get_avatar>(self, false),
    [self](audit_entry& e) { self->send(self->state.light, std::move(e)); },
    [self](purge_tick_atom) {
      self->send(self->state.light, purge_atom::value);
      self->delayed_send(self, self->state.settings.purge_interval, purge_tick_atom::value);
    },
  };
}

} // namespace

accounts_actor spawn_accounts(caf::event_based_actor* parent, accounts_settings settings) {
  return caf::actor_cast<accounts_actor>(
    parent->spawn<caf::linked>(front_impl, std::move(settings)));
}

accounts_actor make_accounts(caf::actor_system& sys, accounts_settings settings) {
  return caf::actor_cast<accounts_actor>(sys.spawn(front_impl, std::move(settings)));
}

} // namespace bookstore
