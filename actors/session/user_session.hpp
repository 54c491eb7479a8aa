#pragma once

// user_session: the entity of one login session.
//
//   open ──▶ live ──refresh (current token)──▶ live, generation + 1
//              │ logout / refresh with a spent token / account deleted / expiry
//              ▼
//           revoked (kept, so a revoked id is never live again)
//
// Reached only through the session region (actors/session/session_region.hpp); the runtime that
// hosts it is actors/entity/entity_shard.hpp.

#include "actors/entity/settings.hpp"
#include "actors/protocol/session.hpp"
#include "actors/session/session_state.hpp"

#include <caf/expected.hpp>

namespace bookstore {

struct user_session {
  using state_type = session_state;
  using actor_type = session_actor;
  using commands = entity::command_list<entity::command<open_session, session_view>,
                                        entity::command<refresh_session, session_view>,
                                        entity::command<end_session, session_view>,
                                        entity::command<check_session, session_view>,
                                        entity::command<get_cart, cart_contents>,
                                        entity::command<set_cart_item, cart_contents>,
                                        entity::command<remove_cart_item, cart_contents>,
                                        entity::command<clear_cart, cart_contents>>;

  struct settings {
    size_t max_cart_books = 50;
    int64_t max_quantity = 100;
    /// Spent refresh-token hashes remembered (a reuse of an older one is a plain 401).
    size_t spent_memory = 32;
  };

  static constexpr const char* entity_type = "user_session";
  static constexpr int32_t schema_version = 1;

  template <class Msg>
  static const std::string& id_of(const Msg& msg) {
    return msg.session_id;
  }

  static caf::expected<session_view> handle(state_type& st, const open_session& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<session_view> handle(state_type& st, const refresh_session& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<session_view> handle(state_type& st, const end_session& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<session_view> handle(state_type& st, const check_session& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<cart_contents> handle(state_type& st, const get_cart& msg,
                                             entity::env& e, const settings& cfg);
  static caf::expected<cart_contents> handle(state_type& st, const set_cart_item& msg,
                                             entity::env& e, const settings& cfg);
  static caf::expected<cart_contents> handle(state_type& st, const remove_cart_item& msg,
                                             entity::env& e, const settings& cfg);
  static caf::expected<cart_contents> handle(state_type& st, const clear_cart& msg,
                                             entity::env& e, const settings& cfg);

  /// Sessions have no timed work: expiry is checked on every command.
  static int64_t wake_at(const state_type&) { return 0; }
  static void on_wake(state_type&, entity::env&, const settings&) {}

  template <class Self>
  static void on_durable(Self*, const std::string&, const state_type&, int64_t,
                         const settings&) {}
  template <class Self>
  static void on_dropped(Self*, const std::string&, const settings&) {}

  static session_view view(const std::string& id, const state_type& st);
};

} // namespace bookstore
