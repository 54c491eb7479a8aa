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
  std::vector<account_worker_actor> workers;
  size_t next = 0;
  restart_budget restarts;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "accounts";
};

using front_actor = accounts_actor::extend<caf::reacts_to<purge_tick_atom>>;
using front_pointer = front_actor::stateful_pointer<front_state>;

account_worker_actor start_worker(front_pointer self) {
  return spawn_account_worker(self, self->state.settings);
}

account_worker_actor& pick(front_pointer self) {
  auto& st = self->state;
  return st.workers[st.next++ % st.workers.size()];
}

template <class Msg>
auto forward(front_pointer self) {
  return [self](Msg& msg) { return self->delegate(pick(self), std::move(msg)); };
}

front_actor::behavior_type front_impl(front_pointer self, accounts_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.log = log::get("accounts");
  for (size_t i = 0; i < std::max<size_t>(1, st.settings.workers); ++i)
    st.workers.push_back(start_worker(self));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto& w : st.workers) {
      if (w.address() != msg.source)
        continue;
      log::warn(*st.log, "-", "accounts worker stopped ({})", to_string(msg.reason));
      if (!st.restarts.spend(self->clock().now()))
        return self->quit(make_error(errc::storage_unavailable, "", "accounts workers keep failing"));
      w = start_worker(self);
      return;
    }
    self->quit(msg.reason);
  });
  self->delayed_send(self, st.settings.purge_interval, purge_tick_atom::value);
  return {
    [self](bootstrap_atom x) { return self->delegate(pick(self), x); },
    forward<register_user>(self),
    forward<login_user>(self),
    forward<refresh_login>(self),
    forward<get_user>(self),
    forward<update_user>(self),
    forward<setup_mfa>(self),
    forward<enable_mfa>(self),
    forward<delete_user>(self),
    forward<export_user>(self),
    forward<put_avatar>(self),
    forward<get_avatar>(self),
    [self](audit_entry& e) { self->send(pick(self), std::move(e)); },
    [self](purge_tick_atom) {
      self->send(pick(self), purge_atom::value);
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
