#pragma once

// inventory_item: the entity holding the stock of one book. Single writer per item, so no
// database lock and no overselling: every reservation is checked against what this entity
// alone knows.
//
//   reserve(order, n) ──▶ held {order → n, expires_at} ──commit──▶ sold (on hand − n)
//                              │ release / expiry
//                              ▼
//                           released (available again)
//
// Reached only through the inventory region (actors/inventory/inventory_region.hpp); the
// runtime that hosts it is actors/entity/entity_shard.hpp.

#include "actors/common/service_ref.hpp"
#include "actors/entity/settings.hpp"
#include "actors/inventory/inventory_state.hpp"
#include "actors/protocol/inventory.hpp"

#include <caf/expected.hpp>

namespace bookstore {

struct inventory_item {
  using state_type = inventory_state;
  using actor_type = inventory_actor;
  using commands = entity::command_list<entity::command<get_stock, stock_level>,
                                        entity::command<adjust_stock, stock_level>,
                                        entity::command<reserve_stock, stock_level>,
                                        entity::command<commit_reservation, stock_level>,
                                        entity::command<release_reservation, stock_level>,
                                        entity::command<return_stock, stock_level>>;

  struct settings {
    int64_t default_ttl_ms = 15 * 60 * 1000;
    /// How long a committed order is remembered at least (so a repeated commit is recognised); it
    /// is forgotten with the item's next change after that. Kept short: a best-seller's snapshot
    /// holds one entry per sale in this window.
    int64_t commit_memory_ms = 10 * 60 * 1000;
    /// How long a return is remembered: a repeat must never add twice, and a late step of the
    /// order must find it. Every undone order leaves one entry here for this long.
    int64_t return_memory_ms = 24LL * 3600 * 1000;
    /// Told every durable stock level (the catalog's view of `available`); may be empty.
    service_ref<stock_watch_actor> watcher;
  };

  static constexpr const char* entity_type = "inventory_item";
  static constexpr int32_t schema_version = 1;
  /// Upper bound on stock and quantities: keeps sums far from overflow.
  static constexpr int64_t max_quantity = 1'000'000'000;

  template <class Msg>
  static const std::string& id_of(const Msg& msg) {
    return msg.book_id;
  }

  static caf::expected<stock_level> handle(state_type& st, const get_stock& msg, entity::env& e,
                                           const settings& cfg);
  static caf::expected<stock_level> handle(state_type& st, const adjust_stock& msg,
                                           entity::env& e, const settings& cfg);
  static caf::expected<stock_level> handle(state_type& st, const reserve_stock& msg,
                                           entity::env& e, const settings& cfg);
  static caf::expected<stock_level> handle(state_type& st, const commit_reservation& msg,
                                           entity::env& e, const settings& cfg);
  static caf::expected<stock_level> handle(state_type& st, const release_reservation& msg,
                                           entity::env& e, const settings& cfg);
  static caf::expected<stock_level> handle(state_type& st, const return_stock& msg,
                                           entity::env& e, const settings& cfg);

  /// When the earliest reservation expires (0 = never); remembered sales and returns are
  /// forgotten with the item's next change, not on a wake of their own.
  static int64_t wake_at(const state_type& st);
  /// Releases expired reservations (and forgets old sales and returns with them).
  static void on_wake(state_type& st, entity::env& e, const settings& cfg);

  /// Called by the runtime whenever `st` is durable (loaded, or a write committed): tells the
  /// watcher the level readers should see.
  template <class Self>
  static void on_durable(Self* self, const std::string& id, const state_type& st, int64_t now,
                         const settings& cfg) {
    if (auto w = cfg.watcher.get())
      self->send(w, visible_level(id, st, now));
  }

  /// Called by the runtime when it drops the entity: what it published may not hold.
  template <class Self>
  static void on_dropped(Self* self, const std::string& id, const settings& cfg) {
    if (auto w = cfg.watcher.get())
      self->send(w, stock_forgotten{id});
  }

  /// Sum of live reservations.
  static int64_t reserved(const state_type& st);
  static stock_level level(const std::string& id, const state_type& st);
  /// The level as of `now`: holds that expired by then do not count.
  static stock_level visible_level(const std::string& id, const state_type& st, int64_t now);
};

} // namespace bookstore
