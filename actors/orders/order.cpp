#include "actors/orders/order.hpp"

#include "actors/protocol/errc.hpp"

#include <algorithm>

namespace bookstore {

namespace {

caf::error not_settled() {
  return make_error(errc::not_settled);
}

void set_status(order_state& st, const std::string& status, entity::env& e) {
  if (st.status == status)
    return;
  st.status = status;
  st.history.push_back(order_history_record{status, e.now_ms});
  st.updated_at = e.now_ms;
  e.changed = true;
}

/// Starts `step` at its first attempt.
void begin(order_state& st, const std::string& step, entity::env& e, const order::settings& cfg) {
  st.step = step;
  st.attempt = 1;
  st.step_since = e.now_ms;
  st.step_deadline = e.now_ms + cfg.step_timeout_ms;
  st.retry_at = 0;
  st.last_error.clear();
  st.updated_at = e.now_ms;
  e.changed = true;
}

/// The attempt failed: try again after a backoff.
void retry_later(order_state& st, const std::string& why, entity::env& e,
                 const order::settings& cfg) {
  auto shift = std::min<int64_t>(st.attempt - 1, 20);
  auto wait = std::min(cfg.retry_max_ms, cfg.retry_base_ms << shift);
  st.attempt += 1;
  st.retry_at = e.now_ms + wait;
  st.last_error = why;
  e.changed = true;
}

void set_answer(order_state& st, const char* answer, entity::env& e) {
  if (st.answer.empty()) {
    st.answer = answer;
    e.changed = true;
  }
}

/// Paid and the stock sold: the order is confirmed and its saga done.
void confirm(order_state& st, entity::env& e, const order::settings& cfg) {
  st.stock_committed = true;
  st.payment_token.clear();
  set_status(st, "confirmed", e);
  set_answer(st, "confirmed", e);
  begin(st, "done", e, cfg);
}

/// `book` is short: the order is rejected and whatever it holds or paid is undone.
void reject_for_stock(order_state& st, const std::string& book, entity::env& e,
                      const order::settings& cfg) {
  st.short_book = book;
  set_status(st, "rejected", e);
  begin(st, "release", e, cfg);
}

bool may_see(const order_state& st, const request_ctx& ctx, bool privileged) {
  return privileged || ctx.caller == st.user_id;
}

/// What the checkout gets back for an event: the order's id and where it stands, nothing it
/// would build and throw away.
order_view brief(const std::string& id, const order_state& st) {
  order_view v;
  v.id = id;
  v.user_id = st.user_id;
  v.status = st.status;
  v.answer = st.answer;
  v.updated_at = st.updated_at;
  return v;
}

caf::error no_such_order(const std::string& id) {
  return make_error(errc::not_found, id, "no such order");
}

/// Before shipping: everything but the terminal statuses and shipped/delivered.
bool cancellable(const std::string& status) {
  return status == "pending" || status == "reserved" || status == "payment_pending"
         || status == "manual_review" || status == "confirmed";
}

} // namespace

bool order::active(const std::string& step) {
  return !step.empty() && step != "done" && step != "await_review";
}

order_step order::step_of(const std::string& id, const state_type& st, const settings& cfg) {
  order_step s;
  s.order_id = id;
  // Only a step that is not waiting out a backoff is handed out.
  if (active(st.step) && st.retry_at == 0)
    s.step = st.step;
  // Whether the IP is known matters only to an order the fraud rule could hold.
  s.needs_ip_check = st.total > cfg.review_threshold;
  s.attempt = st.attempt;
  s.status = st.status;
  s.user_id = st.user_id;
  s.session_id = st.session_id;
  for (auto& i : st.items)
    s.items.push_back(order_line{i.book_id, i.title, i.quantity, money{i.unit_amount, st.currency}});
  s.total = money{st.total, st.currency};
  s.payment_id = st.payment_id;
  s.payment_token = st.payment_token;
  s.manual_capture = st.manual_capture;
  s.payment_started = st.payment_started;
  s.stock_committed = st.stock_committed;
  s.restock = st.restock;
  s.client_ip = st.client_ip;
  s.created_at = st.created_at;
  s.request_id = st.request_id;
  return s;
}

order_listing order::listing(const state_type& st) {
  // Not while the first attempt of a step in flight runs: it ends in milliseconds, and the next
  // write lists it (order_index.hpp). An anonymised order is always written: its row forgets too.
  bool in_flight = st.status == "pending" || st.status == "reserved";
  if (st.user_id.empty() || (in_flight && st.attempt <= 1 && st.user_id != deleted_user))
    return {};
  return order_listing{st.user_id,   st.status,     st.total,     st.currency,
                       st.client_ip, st.created_at, st.updated_at};
}

order_view order::view(const std::string& id, const state_type& st) {
  order_view v;
  if (st.user_id.empty())
    return v;
  v.id = id;
  v.user_id = st.user_id;
  v.status = st.status;
  for (auto& i : st.items)
    v.items.push_back(order_line{i.book_id, i.title, i.quantity, money{i.unit_amount, st.currency}});
  v.total = money{st.total, st.currency};
  v.address = shipping_address{st.name, st.line1, st.line2, st.city, st.postal_code, st.country};
  v.payment_id = st.payment_id;
  v.payment_status = st.payment_status.empty() ? "requires_confirmation" : st.payment_status;
  v.decline_code = st.decline_code;
  v.short_book = st.short_book;
  v.carrier = st.carrier;
  v.tracking_number = st.tracking_number;
  v.shipment_status = st.shipment_status;
  for (auto& h : st.history) v.history.push_back(status_change{h.status, h.at});
  v.created_at = st.created_at;
  v.updated_at = st.updated_at;
  v.answer = st.answer;
  return v;
}

caf::expected<order_view> order::handle(state_type& st, const place_order& msg, entity::env& e,
                                        const settings& cfg) {
  if (!st.user_id.empty()) {
    if (st.user_id != msg.user_id || st.body_hash != msg.body_hash)
      return make_error(errc::idempotency_conflict, e.id,
                        "this Idempotency-Key was used with another request");
    if (st.answer.empty())
      return not_settled();
    return view(e.id, st);
  }
  if (msg.items.empty())
    return make_error(errc::invalid_request, "items", "the order has no items (the cart is empty)");
  if (msg.user_id.empty())
    return make_error(errc::invalid_request, "user_id", "an order needs a user");
  st.user_id = msg.user_id;
  st.body_hash = msg.body_hash;
  st.currency = msg.items.front().unit_price.currency;
  for (auto& i : msg.items) {
    if (i.unit_price.currency != st.currency) {
      st = order_state{};
      return make_error(errc::invalid_request, "items", "all books of an order must share a currency");
    }
    st.items.push_back(order_item_record{i.book_id, i.title, i.quantity, i.unit_price.amount});
    st.total += i.quantity * i.unit_price.amount;
  }
  auto& a = msg.address;
  st.name = a.name, st.line1 = a.line1, st.line2 = a.line2, st.city = a.city;
  st.postal_code = a.postal_code, st.country = a.country;
  // The payment's id is the order's, with the payment prefix: one payment intent per order.
  st.payment_id = "pi_" + e.id.substr(e.id.find('_') + 1);
  st.payment_token = msg.payment_token;
  st.client_ip = msg.client_ip;
  st.session_id = msg.session_id;
  st.created_at = e.now_ms;
  st.request_id = msg.ctx.request_id;
  set_status(st, "pending", e);
  begin(st, "reserve", e, cfg);
  return not_settled();
}

caf::expected<order_view> order::handle(state_type& st, const get_order& msg, entity::env& e,
                                        const settings&) {
  if (st.user_id.empty() || !may_see(st, msg.ctx, msg.privileged))
    return no_such_order(e.id);
  return view(e.id, st);
}

caf::expected<order_view> order::handle(state_type& st, const cancel_order& msg, entity::env& e,
                                        const settings& cfg) {
  if (st.user_id.empty() || !may_see(st, msg.ctx, msg.privileged))
    return no_such_order(e.id);
  if (st.status == "cancelled")
    return st.step == "done" ? caf::expected<order_view>{view(e.id, st)} : not_settled();
  if (!cancellable(st.status))
    return make_error(errc::invalid_state, e.id, "the order can no longer be cancelled");
  set_status(st, "cancelled", e);
  st.restock = true;
  begin(st, "cancel", e, cfg);
  return not_settled();
}

caf::expected<order_view> order::handle(state_type& st, const refund_order&, entity::env& e,
                                        const settings& cfg) {
  if (st.user_id.empty())
    return no_such_order(e.id);
  if (st.status == "refunded")
    return st.step == "done" ? caf::expected<order_view>{view(e.id, st)} : not_settled();
  if (st.status != "confirmed" && st.status != "shipped" && st.status != "delivered")
    return make_error(errc::invalid_state, e.id, "only a paid order can be refunded");
  // Goods that left the warehouse do not come back to stock by a refund.
  st.restock = st.status == "confirmed";
  set_status(st, "refunded", e);
  begin(st, "refund", e, cfg);
  return not_settled();
}

caf::expected<order_view> order::handle(state_type& st, const ship_order& msg, entity::env& e,
                                        const settings&) {
  if (st.user_id.empty())
    return no_such_order(e.id);
  if (st.status == "shipped" && st.carrier == msg.carrier
      && st.tracking_number == msg.tracking_number)
    return view(e.id, st);
  if (st.status != "confirmed")
    return make_error(errc::invalid_state, e.id, "only a confirmed order can be shipped");
  st.carrier = msg.carrier;
  st.tracking_number = msg.tracking_number;
  st.shipment_status = "shipped";
  set_status(st, "shipped", e);
  return view(e.id, st);
}

caf::expected<order_view> order::handle(state_type& st, const review_order& msg, entity::env& e,
                                        const settings& cfg) {
  if (st.user_id.empty())
    return no_such_order(e.id);
  if (st.status == "manual_review" && st.step == "await_review") {
    st.review = msg.approve ? "approved" : "rejected";
    if (msg.approve) {
      begin(st, "capture", e, cfg);
    } else {
      set_status(st, "rejected", e);
      begin(st, "release", e, cfg);
    }
    return not_settled();
  }
  // Repeats wait for (or answer) the decision already taken.
  if (msg.approve && st.status == "manual_review" && (st.step == "capture" || st.step == "commit"))
    return not_settled();
  if (msg.approve && st.status == "confirmed" && st.manual_capture)
    return view(e.id, st);
  // Repeats of the decision answer the order as it ended (an approval that found the books sold
  // out ends rejected); the opposite decision is a conflict.
  if (st.status == "rejected" && st.review == (msg.approve ? "approved" : "rejected"))
    return st.step == "done" ? caf::expected<order_view>{view(e.id, st)} : not_settled();
  return make_error(errc::invalid_state, e.id, "the order is not waiting for a review");
}

caf::expected<order_view> order::handle(state_type& st, const anonymise_order&, entity::env& e,
                                        const settings&) {
  if (st.user_id.empty())
    return no_such_order(e.id);
  if (st.user_id == deleted_user)
    return view(e.id, st);
  st.user_id = deleted_user;
  for (auto* f : {&st.name, &st.line1, &st.line2, &st.city, &st.postal_code, &st.client_ip,
                  &st.session_id, &st.payment_token})
    f->clear();
  st.updated_at = e.now_ms;
  e.changed = true;
  return view(e.id, st);
}

caf::expected<order_view> order::handle(state_type& st, const order_event& msg, entity::env& e,
                                        const settings& cfg) {
  if (st.user_id.empty())
    return no_such_order(e.id);
  // Only the attempt under way counts: duplicates and late answers change nothing.
  if (msg.step != st.step || msg.attempt != st.attempt || st.retry_at != 0)
    return brief(e.id, st);
  auto failed = [&] { retry_later(st, msg.detail, e, cfg); };
  const auto& k = msg.kind;
  if (st.step == "reserve") {
    if (k == "reserved") {
      set_status(st, "reserved", e);
      st.manual_capture = !msg.flag && st.total > cfg.review_threshold;
      st.payment_started = true;
      begin(st, "pay", e, cfg);
    } else if (k == "short") {
      reject_for_stock(st, msg.detail, e, cfg);
    } else {
      failed();
    }
  } else if (st.step == "pay") {
    if (k == "committed") {
      // Paid and the stock sold, in one step.
      st.payment_status = "succeeded";
      confirm(st, e, cfg);
    } else if (k == "paid") {
      st.payment_status = "succeeded";
      begin(st, "commit", e, cfg);
    } else if (k == "commit_failed") {
      st.payment_status = "succeeded";
      failed(); // paid: the next attempt finds the payment done and sells the stock again
    } else if (k == "authorised") {
      st.payment_status = "requires_capture";
      set_status(st, "manual_review", e);
      set_answer(st, "manual_review", e);
      begin(st, "await_review", e, cfg);
    } else if (k == "declined") {
      st.payment_status = "failed";
      st.decline_code = msg.detail.empty() ? "card_declined" : msg.detail;
      set_status(st, "payment_failed", e);
      begin(st, "release", e, cfg);
    } else if (k == "short") {
      // A reservation ran out while the payment waited and the stock is gone.
      reject_for_stock(st, msg.detail, e, cfg);
    } else if (st.pending_since != 0 && e.now_ms - st.pending_since >= cfg.pending_limit_ms) {
      st.decline_code = "provider_unavailable";
      set_status(st, "payment_failed", e);
      begin(st, "release", e, cfg);
    } else {
      if (st.status == "reserved") {
        set_status(st, "payment_pending", e);
        st.pending_since = e.now_ms;
        set_answer(st, "payment_pending", e);
      }
      failed();
    }
  } else if (st.step == "capture") {
    if (k == "captured") {
      st.payment_status = "succeeded";
      begin(st, "commit", e, cfg);
    } else if (k == "short") {
      // Approved, but its books sold out during the review: the authorisation is voided.
      reject_for_stock(st, msg.detail, e, cfg);
    } else {
      failed();
    }
  } else if (st.step == "commit") {
    if (k == "committed") {
      confirm(st, e, cfg);
    } else if (k == "short") {
      // Paid, but the stock is gone (a reservation expired meanwhile): refund and reject.
      reject_for_stock(st, msg.detail, e, cfg);
    } else {
      failed();
    }
  } else if (st.step == "release" || st.step == "cancel" || st.step == "refund") {
    if (k == "done") {
      // The payment as the undo left it (refunded, canceled, or failed when it was declined).
      if (st.payment_started)
        st.payment_status = !msg.detail.empty() ? msg.detail
                            : st.payment_status == "succeeded" ? "refunded"
                                                               : "canceled";
      if (st.step == "release" && st.status == "rejected" && !st.short_book.empty())
        set_answer(st, "insufficient_stock", e);
      else if (st.step == "release" && st.status == "payment_failed")
        set_answer(st, "payment_declined", e);
      else if (st.step == "release")
        set_answer(st, "rejected", e);
      else if (st.step == "cancel")
        set_answer(st, "cancelled", e); // cancelled before the checkout answered
      if (st.step != "release" && st.stock_committed && st.restock)
        st.stock_committed = false;
      st.payment_token.clear();
      begin(st, "done", e, cfg);
    } else {
      failed();
    }
  }
  return brief(e.id, st);
}

int64_t order::wake_at(const state_type& st) {
  if (!active(st.step))
    return 0;
  if (st.retry_at != 0)
    return st.retry_at;
  return st.step_deadline;
}

void order::on_wake(state_type& st, entity::env& e, const settings& cfg) {
  if (!active(st.step))
    return;
  if (st.retry_at != 0) {
    if (st.retry_at > e.now_ms)
      return;
    st.retry_at = 0;
    st.step_since = e.now_ms;
    st.step_deadline = e.now_ms + cfg.step_timeout_ms;
    e.changed = true;
    return;
  }
  if (e.now_ms >= st.step_deadline) {
    // The step never reported back (its answer was lost, or the node that ran it died).
    st.attempt += 1;
    st.step_since = e.now_ms;
    st.step_deadline = e.now_ms + cfg.step_timeout_ms;
    e.changed = true;
  }
}

} // namespace bookstore
