#include "actors/inventory/inventory_item.hpp"

#include "actors/protocol/errc.hpp"

#include <algorithm>
#include <iterator>

namespace bookstore {

namespace {

/// Drops what expired before `now`; every handler runs this first, so no answer ever counts an
/// expired hold even if the timer has not fired yet. An expired hold is a change (stock comes
/// free). Memory of sales and returns past its time is forgotten lazily: dropped here without
/// a write of its own, it leaves the snapshot with the item's next change (wake_at does not wait
/// for it: at 2,000 orders/s a wake per sale would be a write per order ten minutes later).
void expire(inventory_state& st, entity::env& e) {
  for (auto it = st.reservations.begin(); it != st.reservations.end();) {
    if (it->second.expires_at <= e.now_ms) {
      it = st.reservations.erase(it);
      e.changed = true;
    } else {
      ++it;
    }
  }
  for (auto* memory : {&st.committed, &st.returned})
    for (auto it = memory->begin(); it != memory->end();)
      it = it->second <= e.now_ms ? memory->erase(it) : std::next(it);
}

} // namespace

int64_t inventory_item::reserved(const state_type& st) {
  int64_t sum = 0;
  for (auto& [order, r] : st.reservations) sum += r.quantity;
  return sum;
}

stock_level inventory_item::level(const std::string& id, const state_type& st) {
  auto held = reserved(st);
  return stock_level{id, st.on_hand, held, std::max<int64_t>(0, st.on_hand - held)};
}

stock_level inventory_item::visible_level(const std::string& id, const state_type& st,
                                          int64_t now) {
  int64_t held = 0;
  for (auto& [order, r] : st.reservations)
    if (r.expires_at > now)
      held += r.quantity;
  return stock_level{id, st.on_hand, held, std::max<int64_t>(0, st.on_hand - held)};
}

caf::expected<stock_level> inventory_item::handle(state_type& st, const get_stock& msg,
                                                  entity::env& e, const settings&) {
  expire(st, e);
  return level(msg.book_id, st);
}

caf::expected<stock_level> inventory_item::handle(state_type& st, const adjust_stock& msg,
                                                  entity::env& e, const settings&) {
  expire(st, e);
  if (msg.delta < -max_quantity || msg.delta > max_quantity)
    return make_error(errc::invalid_request, "delta", "delta is out of range");
  auto next = st.on_hand + msg.delta;
  if (next > max_quantity)
    return make_error(errc::invalid_request, "delta", "stock would exceed 1000000000");
  if (next < reserved(st))
    return make_error(errc::insufficient_stock, msg.book_id,
                      "on hand would drop below what is reserved");
  if (msg.delta != 0) {
    st.on_hand = next;
    e.changed = true;
  }
  return level(msg.book_id, st);
}

caf::expected<stock_level> inventory_item::handle(state_type& st, const reserve_stock& msg,
                                                  entity::env& e, const settings& cfg) {
  expire(st, e);
  if (msg.order_id.empty())
    return make_error(errc::invalid_request, "order_id", "order id is missing");
  if (msg.quantity <= 0 || msg.quantity > max_quantity)
    return make_error(errc::invalid_request, "quantity", "quantity is out of range");
  auto ttl = msg.ttl_ms > 0 ? msg.ttl_ms : cfg.default_ttl_ms;
  if (st.committed.count(msg.order_id) != 0)
    return level(msg.book_id, st); // already sold to this order: repeating is harmless
  if (st.returned.count(msg.order_id) != 0)
    return make_error(errc::invalid_state, msg.order_id,
                      "the order gave its stock back; it cannot hold it again");
  if (auto it = st.reservations.find(msg.order_id); it != st.reservations.end()) {
    if (it->second.quantity != msg.quantity)
      return make_error(errc::invalid_state, msg.order_id,
                        "the order already holds another quantity of this book");
    auto extended = std::max(it->second.expires_at, e.now_ms + ttl);
    if (extended != it->second.expires_at) {
      it->second.expires_at = extended;
      e.changed = true;
    }
    return level(msg.book_id, st);
  }
  if (st.on_hand - reserved(st) < msg.quantity)
    return make_error(errc::insufficient_stock, msg.book_id, "not enough stock available");
  st.reservations.emplace(msg.order_id, reservation{msg.quantity, e.now_ms + ttl});
  e.changed = true;
  return level(msg.book_id, st);
}

caf::expected<stock_level> inventory_item::handle(state_type& st, const commit_reservation& msg,
                                                  entity::env& e, const settings& cfg) {
  expire(st, e);
  if (st.committed.count(msg.order_id) != 0)
    return level(msg.book_id, st);
  if (st.returned.count(msg.order_id) != 0)
    return make_error(errc::invalid_state, msg.order_id,
                      "the order gave its stock back; it cannot buy it any more");
  auto it = st.reservations.find(msg.order_id);
  if (it == st.reservations.end())
    return make_error(errc::not_found, msg.order_id, "the order holds no reservation here");
  st.on_hand -= it->second.quantity;
  st.committed.emplace(msg.order_id, e.now_ms + cfg.commit_memory_ms);
  st.reservations.erase(it);
  e.changed = true;
  return level(msg.book_id, st);
}

caf::expected<stock_level> inventory_item::handle(state_type& st, const release_reservation& msg,
                                                  entity::env& e, const settings&) {
  expire(st, e);
  if (st.reservations.erase(msg.order_id) != 0)
    e.changed = true;
  return level(msg.book_id, st);
}

caf::expected<stock_level> inventory_item::handle(state_type& st, const return_stock& msg,
                                                  entity::env& e, const settings& cfg) {
  expire(st, e);
  if (msg.order_id.empty())
    return make_error(errc::invalid_request, "order_id", "order id is missing");
  if (msg.quantity <= 0 || msg.quantity > max_quantity)
    return make_error(errc::invalid_request, "quantity", "quantity is out of range");
  if (st.returned.count(msg.order_id) != 0)
    return level(msg.book_id, st);
  // Whatever the order held or bought here comes back, and the order is remembered as done with
  // this item: a late step of it (a hold extended, a sale after a slow payment) is refused.
  if (st.reservations.erase(msg.order_id) == 0
      && (msg.sold || st.committed.count(msg.order_id) != 0)) {
    st.on_hand = std::min(max_quantity, st.on_hand + msg.quantity);
    st.committed.erase(msg.order_id);
  }
  st.returned.emplace(msg.order_id, e.now_ms + cfg.return_memory_ms);
  e.changed = true;
  return level(msg.book_id, st);
}

int64_t inventory_item::wake_at(const state_type& st) {
  int64_t next = 0;
  auto consider = [&](int64_t t) {
    if (next == 0 || t < next)
      next = t;
  };
  // Only holds: memory is forgotten with the next change (expire).
  for (auto& [order, r] : st.reservations) consider(r.expires_at);
  return next;
}

void inventory_item::on_wake(state_type& st, entity::env& e, const settings&) {
  expire(st, e);
}

} // namespace bookstore
