#pragma once

// Payments: the `payment_intent` entity (one per order's payment, reached through the payments
// region by payment id) and the `payment_provider` service that talks to the real provider
// (simulated in-process, or Stripe over HTTPS).
//
//   requires_confirmation ──confirm──▶ processing ──▶ succeeded ──refund──▶ refunded
//                                          │      └──▶ requires_capture ──capture──▶ succeeded
//                                          │                  └──cancel──▶ canceled
//                                          └──▶ failed (declined)
//
// The entity never waits on the provider itself: it records which call it wants (`op`, with a
// call number), the provider service makes it and answers with provider_result, which the
// entity applies only if it is still the call it waits for. Every provider call carries an
// idempotency key derived from the payment id, the operation and the caller's attempt, so a
// repeated step never charges twice.
//
// Commands that need the provider (authorize, capture, cancel) are answered once the outcome is
// durable; errc::unavailable (provider down, circuit open) or errc::timeout when it did not
// come. Repeating the command with a higher `attempt` tries the provider again; the same attempt
// answers the same error without calling it again.

#include "actors/protocol/catalog.hpp"
#include "actors/protocol/entity.hpp"
#include "actors/protocol/request_ctx.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

struct payment_view {
  std::string payment_id;
  std::string order_id;
  std::string status; ///< "" = no such payment; else one of the states above
  money amount;
  std::string decline_code;
  std::string provider_ref; ///< the provider's own id
  std::string last_error;   ///< why the last provider call failed, if it did
  int64_t updated_at = 0;
};

/// Creates the intent on first use and confirms it (automatic or manual capture).
struct authorize_payment {
  request_ctx ctx;
  std::string payment_id;
  std::string order_id;
  money amount;
  std::string token;
  bool manual_capture = false;
  int64_t attempt = 1;
};

/// requires_capture -> succeeded. Repeat-safe; errc::invalid_state from other states.
struct capture_payment {
  request_ctx ctx;
  std::string payment_id;
  int64_t attempt = 1;
};

/// Undoes the payment whatever it reached: voids an authorisation, refunds a charge, forgets an
/// intent never confirmed. Waits for a confirmation in flight to end first. Repeat-safe.
struct cancel_payment {
  request_ctx ctx;
  std::string payment_id;
  int64_t attempt = 1;
};

struct get_payment {
  request_ctx ctx;
  std::string payment_id;
};

/// What the provider told us unasked (a webhook, the reconciler). `kind`: "succeeded",
/// "authorised", "failed", "refunded". Applied once per event id; an event older than the state
/// changes nothing, except that money the provider took always counts (a locally canceled intent
/// becomes succeeded, so cancelling it again refunds).
struct provider_event {
  request_ctx ctx;
  std::string payment_id;
  std::string event_id;
  std::string kind;
  std::string decline_code;
  std::string provider_ref;
};

/// The answer to one provider call. `outcome`: "succeeded", "requires_capture", "declined",
/// "canceled", "refunded" or "error" (then `error` says why).
struct provider_result {
  request_ctx ctx;
  std::string payment_id;
  int64_t call = 0;
  std::string outcome;
  std::string decline_code;
  std::string provider_ref;
  std::string error;
};

/// One call the payment_intent entity wants made. `op`: "confirm", "capture", "cancel" (void an
/// authorisation), "refund".
struct provider_call {
  std::string payment_id;
  int64_t call = 0;
  std::string op;
  money amount;
  std::string token;
  bool manual_capture = false;
  std::string idempotency_key;
  std::string provider_ref;
  std::string request_id;
};

/// Provider payments created since `since_ms` (the reconciler's view of the provider).
struct list_provider_payments {
  int64_t since_ms = 0;
};

struct provider_payment {
  std::string payment_id; ///< ours (the provider keeps it as metadata)
  std::string provider_ref;
  std::string status; ///< in our words: succeeded, requires_capture, failed, canceled, refunded
  money amount;
  int64_t created_at = 0;
};

struct provider_payments {
  std::vector<provider_payment> items;
};

/// Fault injection for drills and tests: "ok", "down" or "slow".
struct set_provider_fault {
  std::string mode;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_view& x) {
  return f(caf::meta::type_name("payment_view"), x.payment_id, x.order_id, x.status, x.amount,
           x.decline_code, x.provider_ref, x.last_error, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, authorize_payment& x) {
  return f(caf::meta::type_name("authorize_payment"), x.ctx, x.payment_id, x.order_id, x.amount,
           x.token, x.manual_capture, x.attempt);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, capture_payment& x) {
  return f(caf::meta::type_name("capture_payment"), x.ctx, x.payment_id, x.attempt);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_payment& x) {
  return f(caf::meta::type_name("cancel_payment"), x.ctx, x.payment_id, x.attempt);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_payment& x) {
  return f(caf::meta::type_name("get_payment"), x.ctx, x.payment_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_event& x) {
  return f(caf::meta::type_name("provider_event"), x.ctx, x.payment_id, x.event_id, x.kind,
           x.decline_code, x.provider_ref);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_result& x) {
  return f(caf::meta::type_name("provider_result"), x.ctx, x.payment_id, x.call, x.outcome,
           x.decline_code, x.provider_ref, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_call& x) {
  return f(caf::meta::type_name("provider_call"), x.payment_id, x.call, x.op, x.amount, x.token,
           x.manual_capture, x.idempotency_key, x.provider_ref, x.request_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_provider_payments& x) {
  return f(caf::meta::type_name("list_provider_payments"), x.since_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_payment& x) {
  return f(caf::meta::type_name("provider_payment"), x.payment_id, x.provider_ref, x.status,
           x.amount, x.created_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_payments& x) {
  return f(caf::meta::type_name("provider_payments"), x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_provider_fault& x) {
  return f(caf::meta::type_name("set_provider_fault"), x.mode);
}

/// The payments region: the interface of every payment_intent, addressed by payment id.
using payment_actor = caf::typed_actor<caf::replies_to<authorize_payment>::with<payment_view>,
                                       caf::replies_to<capture_payment>::with<payment_view>,
                                       caf::replies_to<cancel_payment>::with<payment_view>,
                                       caf::replies_to<get_payment>::with<payment_view>,
                                       caf::replies_to<provider_event>::with<payment_view>,
                                       caf::replies_to<provider_result>::with<payment_view>,
                                       caf::reacts_to<wake_entity>>;

/// The payment provider service: makes calls, and answers each with a provider_result sent to
/// the payments region. Guarded by a circuit breaker and a cap on each call.
using provider_actor
  = caf::typed_actor<caf::reacts_to<provider_call>,
                     caf::replies_to<list_provider_payments>::with<provider_payments>,
                     caf::replies_to<set_provider_fault>::with<bool>>;

} // namespace bookstore
