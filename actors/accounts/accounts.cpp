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
  /// behind a burst of logins. A user's requests always go to the same one (by user id), so
  /// that user's writes (avatars) never race; audit batches and purges go to the last one.
  std::vector<account_worker_actor> light;
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

constexpr size_t light_workers = 2;

account_worker_actor& light_for(front_pointer self, const std::string& key) {
  auto& light = self->state.light;
  return light[std::hash<std::string>{}(key) % light.size()];
}

/// Whose request it is (what picks its light worker).
template <class Msg>
std::string key_of(const Msg& msg) {
  return msg.user_id;
}

std::string key_of(const refresh_login& msg) {
  return msg.refresh_token.substr(0, msg.refresh_token.find('.')); // the session id
}

/// Messages that need bcrypt go to a hasher.
template <class Msg>
auto to_hasher(front_pointer self) {
  return [self](Msg& msg) { return self->delegate(hasher(self), std::move(msg)); };
}

/// The rest go to the light worker of their user.
template <class Msg>
auto to_light(front_pointer self) {
  return [self](Msg& msg) {
    auto& worker = light_for(self, key_of(msg));
    return self->delegate(worker, std::move(msg));
  };
}

front_actor::behavior_type front_impl(front_pointer self, accounts_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.log = log::get("accounts");
  for (size_t i = 0; i < std::max<size_t>(1, st.settings.workers); ++i)
    st.hashers.push_back(spawn_account_worker(self, st.settings, true));
  for (size_t i = 0; i < light_workers; ++i)
    st.light.push_back(spawn_account_worker(self, st.settings, false));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    auto restart = [&](account_worker_actor& w, bool hashing) {
      log::warn(*st.log, "-", "accounts worker stopped ({})", to_string(msg.reason));
      if (!st.restarts.spend(self->clock().now()))
        return self->quit(make_error(errc::storage_unavailable, "", "accounts workers keep failing"));
      w = spawn_account_worker(self, st.settings, hashing);
    };
    for (auto& w : st.light)
      if (w.address() == msg.source)
        return restart(w, false);
    for (auto& w : st.hashers)
      if (w.address() == msg.source)
        return restart(w, true);
    self->quit(msg.reason);
  });
  self->delayed_send(self, st.settings.purge_interval, purge_tick_atom::value);
  return {
    [self](bootstrap_atom x) { return self->delegate(hasher(self), x); },
    to_hasher<register_user>(self),
    to_hasher<login_user>(self),
    to_hasher<delete_user>(self),
    to_light<refresh_login>(self),
    to_light<get_user>(self),
    to_light<update_user>(self),
    to_light<setup_mfa>(self),
    to_light<enable_mfa>(self),
    to_light<export_user>(self),
    to_light<put_avatar>(self),
    to_light<get_avatar>(self),
    [self](audit_entry& e) { self->send(self->state.light.back(), std::move(e)); },
    [self](purge_tick_atom) {
      self->send(self->state.light.back(), purge_atom::value);
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
