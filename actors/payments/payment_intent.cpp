#include "actors/payments/payment_intent.hpp"

#include "actors/protocol/errc.hpp"

#include <algorithm>

namespace bookstore {

namespace {

caf::error not_settled() {
  return make_error(errc::not_settled);
}

bool final_status(const std::string& s) {
  return s == "failed" || s == "canceled" || s == "refunded";
}

/// Asks for provider call `op` for the caller's `attempt` and waits for its answer. The same
/// attempt after that call failed answers the failure instead of calling again.
caf::expected<payment_view> start(payment_state& st, const std::string& op, int64_t attempt,
                                  entity::env& e, const payment_intent::settings& cfg) {
  if (st.last_op == op && st.last_op_attempt >= attempt && !st.last_error.empty())
    return make_error(errc::unavailable, e.id, "payment provider: " + st.last_error);
  st.op = op;
  st.call += 1;
  st.call_started = e.now_ms;
  st.call_deadline = e.now_ms + cfg.call_cap_ms + 5000;
  // Attempts count per operation: a refund's first attempt is not a confirmation's fifth.
  st.last_op_attempt = st.last_op == op ? std::max(st.last_op_attempt, attempt) : attempt;
  st.last_op = op;
  st.last_error.clear();
  st.updated_at = e.now_ms;
  e.changed = true;
  return not_settled();
}

} // namespace

payment_view payment_intent::view(const std::string& id, const state_type& st) {
  return payment_view{id,          st.order_id,     st.status,     money{st.amount, st.currency},
                      st.decline_code, st.provider_ref, st.last_error, st.updated_at};
}

provider_call payment_intent::call_of(const std::string& id, const state_type& st) {
  provider_call c;
  c.payment_id = id;
  c.call = st.call;
  c.op = st.op;
  c.amount = money{st.amount, st.currency};
  c.token = st.token;
  c.manual_capture = st.manual_capture;
  // Order id + operation + attempt: a retried step never charges twice, and a new attempt after
  // a failure is a new request to the provider.
  c.idempotency_key = id + ":" + st.op + ":" + std::to_string(st.last_op_attempt);
  c.provider_ref = st.provider_ref;
  return c;
}

caf::expected<payment_view> payment_intent::handle(state_type& st, const authorize_payment& msg,
                                                   entity::env& e, const settings& cfg) {
  if (st.status.empty()) {
    if (msg.amount.amount <= 0 || msg.token.empty())
      return make_error(errc::invalid_request, "amount", "a payment needs an amount and a token");
    st.order_id = msg.order_id;
    st.amount = msg.amount.amount;
    st.currency = msg.amount.currency;
    st.token = msg.token;
    st.manual_capture = msg.manual_capture;
    st.status = "requires_confirmation";
    st.created_at = e.now_ms;
    st.updated_at = e.now_ms;
    e.changed = true;
  }
  if (!st.op.empty())
    return not_settled(); // a call is under way: answer with its outcome
  if (st.status == "requires_confirmation" || st.status == "processing") {
    auto r = start(st, "confirm", msg.attempt, e, cfg);
    if (!st.op.empty())
      st.status = "processing";
    return r;
  }
  return view(e.id, st);
}

caf::expected<payment_view> payment_intent::handle(state_type& st, const capture_payment& msg,
                                                   entity::env& e, const settings& cfg) {
  if (!st.op.empty())
    return not_settled();
  if (st.status == "succeeded")
    return view(e.id, st);
  if (st.status != "requires_capture")
    return make_error(errc::invalid_state, e.id, "the payment is not authorised");
  return start(st, "capture", msg.attempt, e, cfg);
}

caf::expected<payment_view> payment_intent::handle(state_type& st, const cancel_payment& msg,
                                                   entity::env& e, const settings& cfg) {
  if (!st.op.empty())
    return not_settled(); // let the call under way end first, then undo what it did
  if (st.status.empty() || st.status == "requires_confirmation") {
    // Never confirmed: a tombstone, so a late authorisation cannot charge.
    st.status = "canceled";
    st.updated_at = e.now_ms;
    e.changed = true;
    return view(e.id, st);
  }
  if (final_status(st.status))
    return view(e.id, st);
  if (st.status == "requires_capture")
    return start(st, "cancel", msg.attempt, e, cfg);
  return start(st, "refund", msg.attempt, e, cfg); // succeeded
}

caf::expected<payment_view> payment_intent::handle(state_type& st, const get_payment&,
                                                   entity::env& e, const settings&) {
  return view(e.id, st);
}

caf::expected<payment_view> payment_intent::handle(state_type& st, const provider_event& msg,
                                                   entity::env& e, const settings&) {
  if (st.status.empty())
    return view(e.id, st); // not ours
  if (std::find(st.events.begin(), st.events.end(), msg.event_id) != st.events.end())
    return view(e.id, st);
  auto before = st.status;
  // The provider's word on money wins over what we assumed: a charge that went through after we
  // gave up (canceled) is succeeded again, so that undoing it refunds it.
  if (msg.kind == "succeeded") {
    if (st.status == "requires_confirmation" || st.status == "processing"
        || st.status == "requires_capture" || st.status == "canceled")
      st.status = "succeeded";
  } else if (msg.kind == "authorised") {
    if (st.status == "requires_confirmation" || st.status == "processing"
        || st.status == "canceled")
      st.status = "requires_capture";
  } else if (msg.kind == "failed") {
    if (st.status == "requires_confirmation" || st.status == "processing") {
      st.status = "failed";
      st.decline_code = msg.decline_code.empty() ? "card_declined" : msg.decline_code;
    }
  } else if (msg.kind == "refunded") {
    if (st.status == "succeeded" || st.status == "processing" || st.status == "requires_capture")
      st.status = "refunded";
  }
  if (st.status != before && (st.op == "confirm" || st.op == "capture" || st.op == "refund"
                              || st.op == "cancel"))
    st.op.clear(); // the provider told us the outcome; the call's own answer no longer counts
  if (!msg.provider_ref.empty() && st.provider_ref.empty())
    st.provider_ref = msg.provider_ref;
  st.events.push_back(msg.event_id);
  if (st.events.size() > event_memory)
    st.events.erase(st.events.begin());
  st.updated_at = e.now_ms;
  e.changed = true;
  return view(e.id, st);
}

caf::expected<payment_view> payment_intent::handle(state_type& st, const provider_result& msg,
                                                   entity::env& e, const settings&) {
  if (st.op.empty() || msg.call != st.call)
    return view(e.id, st); // a late or repeated answer
  const auto& o = msg.outcome;
  if (o == "succeeded" || o == "requires_capture" || o == "canceled" || o == "refunded") {
    st.status = o;
  } else if (o == "declined") {
    st.status = "failed";
    st.decline_code = msg.decline_code.empty() ? "card_declined" : msg.decline_code;
  } else {
    if (st.status == "processing")
      st.status = "requires_confirmation";
    st.last_error = msg.error.empty() ? "the provider failed" : msg.error;
  }
  if (!msg.provider_ref.empty())
    st.provider_ref = msg.provider_ref;
  st.op.clear();
  st.updated_at = e.now_ms;
  e.changed = true;
  return view(e.id, st);
}

int64_t payment_intent::wake_at(const state_type& st) {
  return st.op.empty() ? 0 : st.call_deadline;
}

void payment_intent::on_wake(state_type& st, entity::env& e, const settings&) {
  if (st.op.empty() || e.now_ms < st.call_deadline)
    return;
  // The provider service never answered (it restarted, or the node died): the call failed.
  if (st.status == "processing")
    st.status = "requires_confirmation";
  st.last_error = "the provider did not answer in time";
  st.op.clear();
  st.updated_at = e.now_ms;
  e.changed = true;
}

} // namespace bookstore
