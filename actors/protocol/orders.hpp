#pragma once

// Orders: the `order` entity (one per order, reached through the orders region by order id) runs
// the checkout saga of DESIGN.md; the `checkout` service carries out its steps (reserve, pay,
// commit, release, refund) and serves order lists.
//
//   pending ──reserve all──▶ reserved ──pay──▶ confirmed ──ship──▶ shipped ──▶ delivered
//      │ short                  │ declined        │ cancel / refund
//      ▼                        ▼                 ▼
//   rejected              payment_failed     cancelled / refunded
//            reserved ──provider down/slow──▶ payment_pending ──retry──▶ confirmed | payment_failed
//            reserved ──new IP, large order──▶ manual_review ──approve──▶ confirmed | reject ──▶ rejected
//
// The entity is a pure state machine: each transition is durable before its step starts. After
// every committed write (and on activation) the entity hands its current step to the checkout
// service, which answers with an order_event carrying the step and attempt it was for; events for
// a step that is over are ignored, so duplicates and late answers change nothing.
//
// Commands that start or change the saga (place, cancel, refund, review) are answered once the
// order reached an outcome a client can act on (see `answer`), durable.

#include "actors/protocol/catalog.hpp"
#include "actors/protocol/entity.hpp"
#include "actors/protocol/order_index.hpp"
#include "actors/protocol/request_ctx.hpp"

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

struct order_line {
  std::string book_id;
  std::string title;
  int64_t quantity = 0;
  money unit_price;
};

struct shipping_address {
  std::string name;
  std::string line1;
  std::string line2;
  std::string city;
  std::string postal_code;
  std::string country;
};

struct status_change {
  std::string status;
  int64_t at = 0; ///< Unix ms
};

struct order_view {
  std::string id; ///< empty: no such order
  std::string user_id;
  std::string status;
  std::vector<order_line> items;
  money total;
  shipping_address address;
  std::string payment_id;
  std::string payment_status;
  std::string decline_code; ///< payment_failed: why
  std::string short_book;   ///< rejected for stock: which book
  std::string carrier;      ///< shipment; empty = none
  std::string tracking_number;
  std::string shipment_status;
  std::vector<status_change> history;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  /// The kind of the first answer POST /v1/orders gave (replayed for the same key): "confirmed",
  /// "payment_pending", "manual_review", "payment_declined", "insufficient_stock"; "" = not yet.
  std::string answer;
};

/// Creates the order (first time) and starts the saga; answers once `answer` is set. The same
/// `order_id` (derived from user and idempotency key) with the same `body_hash` answers the
/// first answer again; another body is errc::idempotency_conflict. An order with no items is
/// errc::invalid_request (detail "items").
struct place_order {
  request_ctx ctx;
  std::string order_id;
  std::string user_id;
  std::string body_hash;
  std::vector<order_line> items;
  shipping_address address;
  std::string payment_token;
  std::string client_ip;
  std::string session_id; ///< the session whose cart the order empties; "" = items given
};

/// `privileged`: the caller is an admin or operator (else only the owner sees it; others get
/// errc::not_found).
struct get_order {
  request_ctx ctx;
  std::string order_id;
  bool privileged = false;
};

/// Cancels an order not yet shipped: voids or refunds its payment and returns its stock.
/// errc::invalid_state once shipped or over.
struct cancel_order {
  request_ctx ctx;
  std::string order_id;
  bool privileged = false;
};

/// Admin: refunds a confirmed, shipped or delivered order (stock of an unshipped one returns).
struct refund_order {
  request_ctx ctx;
  std::string order_id;
};

/// Admin: confirmed -> shipped.
struct ship_order {
  request_ctx ctx;
  std::string order_id;
  std::string carrier;
  std::string tracking_number;
};

/// Operator: manual_review -> confirmed (capture) or rejected (void, release).
struct review_order {
  request_ctx ctx;
  std::string order_id;
  bool approve = false;
};

/// The account of the order's owner was purged: its personal data goes (name, address but the
/// country, IP, session); the order stays, owned by "usr_deleted", for the books. Repeat-safe.
struct anonymise_order {
  request_ctx ctx;
  std::string order_id;
};

/// The outcome of one saga step, from the checkout service. `kind` by step:
/// reserve: "reserved" (flag: the order's IP is known for the user; asked only when the step's
/// needs_ip_check says so, else false), "short" (detail: book id);
/// pay: "committed" (paid, and the stock sold in the same step), "paid" (paid only),
/// "commit_failed" (paid, the stock not sold yet), "authorised", "declined" (detail: decline
/// code), "short"; commit: "committed", "short";
/// capture: "captured", "short" (the hold was taken again first); release, cancel, refund:
/// "done" (detail: the payment's status as it ended, if there was one); any step: "failed"
/// (detail: why). Answered, once durable, with the order's id, status and answer only.
struct order_event {
  request_ctx ctx;
  std::string order_id;
  std::string step;
  int64_t attempt = 0;
  std::string kind;
  std::string detail;
  bool flag = false;
};

/// What the checkout service needs to carry out the current step of an order.
struct order_step {
  std::string order_id;
  std::string step;
  int64_t attempt = 0;
  std::string status;
  std::string user_id;
  std::string session_id;
  std::vector<order_line> items;
  money total;
  std::string payment_id;
  std::string payment_token;
  bool manual_capture = false;
  bool payment_started = false; ///< a payment intent may exist: undo it when unwinding
  bool stock_committed = false; ///< the stock is sold: unwinding returns it instead of releasing
  bool restock = true;          ///< refund: return the stock (false once shipped)
  bool needs_ip_check = false;  ///< reserve: ask if the IP is known (over the review threshold)
  std::string client_ip;
  int64_t created_at = 0;
  std::string request_id;
};

/// Orders newest first: the caller's (`user_id` set) or all, optionally of one status.
struct list_orders {
  request_ctx ctx;
  std::string user_id;
  std::string status;
  int64_t limit = 20;
  std::string cursor;
};

struct order_page {
  std::vector<order_view> items;
  std::string next_cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_line& x) {
  return f(caf::meta::type_name("order_line"), x.book_id, x.title, x.quantity, x.unit_price);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipping_address& x) {
  return f(caf::meta::type_name("shipping_address"), x.name, x.line1, x.line2, x.city,
           x.postal_code, x.country);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_change& x) {
  return f(caf::meta::type_name("status_change"), x.status, x.at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_view& x) {
  return f(caf::meta::type_name("order_view"), x.id, x.user_id, x.status, x.items, x.total,
           x.address, x.payment_id, x.payment_status, x.decline_code, x.short_book, x.carrier,
           x.tracking_number, x.shipment_status, x.history, x.created_at, x.updated_at, x.answer);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, place_order& x) {
  return f(caf::meta::type_name("place_order"), x.ctx, x.order_id, x.user_id, x.body_hash,
           x.items, x.address, x.payment_token, x.client_ip, x.session_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_order& x) {
  return f(caf::meta::type_name("get_order"), x.ctx, x.order_id, x.privileged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_order& x) {
  return f(caf::meta::type_name("cancel_order"), x.ctx, x.order_id, x.privileged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refund_order& x) {
  return f(caf::meta::type_name("refund_order"), x.ctx, x.order_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ship_order& x) {
  return f(caf::meta::type_name("ship_order"), x.ctx, x.order_id, x.carrier, x.tracking_number);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, review_order& x) {
  return f(caf::meta::type_name("review_order"), x.ctx, x.order_id, x.approve);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, anonymise_order& x) {
  return f(caf::meta::type_name("anonymise_order"), x.ctx, x.order_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_event& x) {
  return f(caf::meta::type_name("order_event"), x.ctx, x.order_id, x.step, x.attempt, x.kind,
           x.detail, x.flag);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_step& x) {
  return f(caf::meta::type_name("order_step"), x.order_id, x.step, x.attempt, x.status, x.user_id,
           x.session_id, x.items, x.total, x.payment_id, x.payment_token, x.manual_capture,
           x.payment_started, x.stock_committed, x.restock, x.needs_ip_check, x.client_ip,
           x.created_at, x.request_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_orders& x) {
  return f(caf::meta::type_name("list_orders"), x.ctx, x.user_id, x.status, x.limit, x.cursor);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_page& x) {
  return f(caf::meta::type_name("order_page"), x.items, x.next_cursor);
}

/// The orders region: the interface of every order entity, addressed by order id.
using order_actor = caf::typed_actor<caf::replies_to<place_order>::with<order_view>,
                                     caf::replies_to<get_order>::with<order_view>,
                                     caf::replies_to<cancel_order>::with<order_view>,
                                     caf::replies_to<refund_order>::with<order_view>,
                                     caf::replies_to<ship_order>::with<order_view>,
                                     caf::replies_to<review_order>::with<order_view>,
                                     caf::replies_to<anonymise_order>::with<order_view>,
                                     caf::replies_to<order_event>::with<order_view>,
                                     caf::reacts_to<wake_entity>>;

/// The checkout's own timer: it fails payment calls whose answer is late (never sent by others).
using checkout_sweep_atom = caf::atom_constant<caf::atom("cosweep")>;

/// The checkout service of a node: carries out order steps, lists orders.
using checkout_actor = caf::typed_actor<caf::reacts_to<order_step>,
                                        caf::replies_to<list_orders>::with<order_page>,
                                        caf::reacts_to<checkout_sweep_atom>>;

} // namespace bookstore
