#pragma once

// The inventory of one book, held by its `inventory_item` entity and reached through the
// inventory region (the only way to an entity). Every changing command is answered only once a
// snapshot holding its change is committed.

#include "actors/protocol/entity.hpp"
#include "actors/protocol/request_ctx.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace bookstore {

/// What an inventory item answers: on hand, held by live reservations, and the difference.
struct stock_level {
  std::string book_id;
  int64_t on_hand = 0;
  int64_t reserved = 0;
  int64_t available = 0;
};

/// Reads the stock of a book. Never fails for a well-formed id (an unknown item has 0).
struct get_stock {
  request_ctx ctx;
  std::string book_id;
};

/// Adds `delta` (may be negative) to on hand. errc::insufficient_stock if on hand would drop
/// below what is reserved.
struct adjust_stock {
  request_ctx ctx;
  std::string book_id;
  int64_t delta = 0;
};

/// Holds `quantity` for `order_id` until committed, released or expired (`ttl_ms`, 0 = the
/// configured default). Repeating it with the same order and quantity is harmless and extends the
/// hold. errc::insufficient_stock if not enough is available; errc::invalid_state if the order
/// already holds another quantity here.
struct reserve_stock {
  request_ctx ctx;
  std::string book_id;
  std::string order_id;
  int64_t quantity = 0;
  int64_t ttl_ms = 0;
};

/// Turns the reservation of `order_id` into a sale (on hand drops). Safe to repeat.
/// errc::not_found if the order holds nothing here (never reserved, released or expired).
struct commit_reservation {
  request_ctx ctx;
  std::string book_id;
  std::string order_id;
};

/// Drops the reservation of `order_id`. Safe to repeat; no reservation is not an error.
struct release_reservation {
  request_ctx ctx;
  std::string book_id;
  std::string order_id;
};

/// Undoes what `order_id` did here: drops its reservation, or, if its stock was sold (`sold`, or
/// a commit this item still remembers), puts `quantity` back on hand. Safe to repeat: a return
/// is remembered, and from then on reserve_stock and commit_reservation of that order are
/// errc::invalid_state (a late step of an undone order cannot take stock again).
struct return_stock {
  request_ctx ctx;
  std::string book_id;
  std::string order_id;
  int64_t quantity = 0;
  bool sold = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_level& x) {
  return f(caf::meta::type_name("stock_level"), x.book_id, x.on_hand, x.reserved, x.available);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_stock& x) {
  return f(caf::meta::type_name("get_stock"), x.ctx, x.book_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, adjust_stock& x) {
  return f(caf::meta::type_name("adjust_stock"), x.ctx, x.book_id, x.delta);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_stock& x) {
  return f(caf::meta::type_name("reserve_stock"), x.ctx, x.book_id, x.order_id, x.quantity,
           x.ttl_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_reservation& x) {
  return f(caf::meta::type_name("commit_reservation"), x.ctx, x.book_id, x.order_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, release_reservation& x) {
  return f(caf::meta::type_name("release_reservation"), x.ctx, x.book_id, x.order_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, return_stock& x) {
  return f(caf::meta::type_name("return_stock"), x.ctx, x.book_id, x.order_id, x.quantity, x.sold);
}

/// An inventory item was dropped (a failed or doubtful write): the level last published for it
/// may be wrong; readers must ask the item again.
struct stock_forgotten {
  std::string book_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_forgotten& x) {
  return f(caf::meta::type_name("stock_forgotten"), x.book_id);
}

/// Receives the stock level of an inventory item each time one becomes durable (after the item
/// is loaded and after each committed change), so readers can answer without asking the item;
/// and hears when an item was dropped.
using stock_watch_actor
  = caf::typed_actor<caf::reacts_to<stock_level>, caf::reacts_to<stock_forgotten>>;

/// The inventory region: the interface of every inventory item, addressed by book id.
using inventory_actor = caf::typed_actor<caf::replies_to<get_stock>::with<stock_level>,
                                         caf::replies_to<adjust_stock>::with<stock_level>,
                                         caf::replies_to<reserve_stock>::with<stock_level>,
                                         caf::replies_to<commit_reservation>::with<stock_level>,
                                         caf::replies_to<release_reservation>::with<stock_level>,
                                         caf::replies_to<return_stock>::with<stock_level>,
                                         caf::reacts_to<wake_entity>>;

} // namespace bookstore
