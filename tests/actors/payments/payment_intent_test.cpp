#define CAF_SUITE payment_intent

// The payment_intent entity through its real runtime (regions over the fake snapshot store) with
// the real payment_provider service in its simulated mode; and the circuit breaker on its own.

// Before the test DSL: its function-like macro `allow(types, fields)` would eat the breaker's
// allow(now_ms).
#include "actors/payments/circuit_breaker.hpp"

namespace {

bool lets_through(bookstore::circuit_breaker& b, int64_t now_ms) {
  return b.allow(now_ms);
}

} // namespace

#include <caf/test/dsl.hpp>

#include "actors/common/metrics.hpp"
#include "actors/common/time.hpp"
#include "actors/entity/codec.hpp"
#include "actors/payments/payment_provider.hpp"
#include "actors/payments/payment_region.hpp"
#include "actors/protocol/names.hpp"
#include "tests/fakes/fake_snapshot_store.hpp"

#include <map>

using namespace bookstore;
using namespace std::chrono_literals;

namespace {

struct reply {
  caf::error err;
  payment_view view;
};
using replies = std::map<std::string, reply>;

/// Sends commands to the payments region (looked up by name) and records each answer; asks the
/// provider for its payments.
caf::behavior prober(caf::event_based_actor* self, std::shared_ptr<replies> out,
                     std::shared_ptr<provider_payments> listed) {
  auto ask = [self, out](auto msg) {
    auto rid = msg.ctx.request_id;
    auto payments = self->system().registry().template get<payment_actor>(names::payments);
    self->request(payments, caf::infinite, std::move(msg))
        .then(
            [out, rid](payment_view& v) {
              (*out)[rid] = reply{{}, std::move(v)};
            },
            [out, rid](caf::error& e) {
              (*out)[rid] = reply{std::move(e), {}};
            });
  };
  return {
      [ask](authorize_payment& m) { ask(m); },
      [ask](capture_payment& m) { ask(m); },
      [ask](cancel_payment& m) { ask(m); },
      [ask](get_payment& m) { ask(m); },
      [ask](provider_event& m) { ask(m); },
      [ask](provider_result& m) { ask(m); },
      [self, listed](list_provider_payments& m) {
        auto provider = self->system().registry().get<provider_actor>(names::provider);
        self->request(provider, caf::infinite, m)
            .then([listed](provider_payments& ps) { *listed = std::move(ps); },
                  [listed](caf::error&) { *listed = provider_payments{}; });
      },
  };
}

/// Calls the simulated provider made, by operation and outcome (a process-wide metric).
uint64_t provider_calls(const std::string& op, const std::string& outcome) {
  return metrics::global()
      .get_counter("bookstore_provider_calls_total",
                   "Calls to the payment provider, by operation and outcome",
                   {{"op", op}, {"outcome", outcome}})
      .value();
}

/// Money the simulated provider took (a process-wide metric).
uint64_t provider_charges() {
  return metrics::global()
      .get_counter("bookstore_provider_charges_total",
                   "Payments captured by the provider (money taken)")
      .value();
}

constexpr const char* pid = "pi_test0000001";

struct fixture : test_coordinator_fixture<> {
  fakes::fake_store_actor store;
  provider_actor provider;
  payment_actor payments;
  caf::actor probe;
  std::shared_ptr<replies> got = std::make_shared<replies>();
  std::shared_ptr<provider_payments> listed = std::make_shared<provider_payments>();
  // The runtime clock runs an hour behind the wall clock, so that deadlines callers stamp with
  // the wall clock never pass in a test (see tests/actors/orders/order_saga_test.cpp).
  const int64_t epoch_ms = unix_ms_now() - 3'600'000;
  const caf::actor_clock::time_point started = sched.clock().now();
  int next_request = 0;
  uint64_t charges_before = provider_charges();

  fixture() {
    store = sys.spawn(fakes::fake_snapshot_store);
    start_provider();
    entity::runtime_settings rt;
    rt.shards = 4;
    rt.passivate_after = 60s;
    rt.wake_interval = 1h;
    rt.store_timeout = 10s;
    rt.clock = [this] { return now_ms(); };
    payment_intent::settings ps;
    ps.call_cap_ms = 2000;
    ps.provider = service_ref<provider_actor>{sys, names::provider};
    payments = make_payment_region(
        sys, service_ref<snapshot_store_actor>{caf::actor_cast<snapshot_store_actor>(store)}, rt,
        ps);
    sys.registry().put(names::payments, payments);
    probe = sys.spawn(prober, got, listed);
    sched.run();
  }

  ~fixture() override {
    for (auto& a : {caf::actor_cast<caf::actor>(payments), caf::actor_cast<caf::actor>(provider),
                    probe, caf::actor_cast<caf::actor>(store)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void start_provider() {
    provider_settings cfg;
    cfg.call_cap = 1s;
    cfg.breaker_failures = 3;
    cfg.breaker_cooldown = 1h; // stays open for the test (its clock is the wall clock)
    cfg.payments = service_ref<payment_actor>{sys, names::payments};
    provider = make_payment_provider(sys, cfg);
    sys.registry().erase(names::provider); // CAF keeps an existing entry on put
    sys.registry().put(names::provider, provider);
    sched.run();
  }

  int64_t now_ms() {
    using namespace std::chrono;
    return epoch_ms + duration_cast<milliseconds>(sched.clock().now() - started).count();
  }

  fakes::fake_store_state& store_state() {
    return deref<fakes::fake_store_actor::stateful_base<fakes::fake_store_state>>(store).state;
  }

  bool commit_one() {
    sched.run();
    if (store_state().pending.empty()) return false;
    self->send(store, fakes::commit_atom::value);
    sched.run();
    return true;
  }

  void settle() {
    for (int round = 0; commit_one(); ++round)
      if (round > 100) CAF_FAIL("the payment writes forever");
  }

  request_ctx ctx() {
    return request_ctx{"req-" + std::to_string(++next_request), now_ms() + 600'000, "usr_alice"};
  }

  template <class Msg>
  std::string send_only(Msg msg) {
    msg.ctx = ctx();
    auto rid = msg.ctx.request_id;
    self->send(probe, std::move(msg));
    return rid;
  }

  /// Sends `msg`, lets every write commit, and returns the answer (which must be there).
  template <class Msg>
  const reply& ask(Msg msg) {
    auto rid = send_only(std::move(msg));
    settle();
    auto it = got->find(rid);
    CAF_REQUIRE(it != got->end());
    return it->second;
  }

  errc code_of(const reply& r) { return describe(r.err).code; }

  authorize_payment authorize(int64_t attempt, const std::string& token = "tok_visa",
                              bool manual = false) {
    return authorize_payment{{},     pid,    "ord_test0000001", money{4200, "EUR"}, token,
                             manual, attempt};
  }

  void fault(const std::string& mode) {
    self->send(provider, set_provider_fault{mode});
    sched.run();
  }

  /// What the simulated provider holds of the test payment ("" = nothing).
  std::string at_provider() {
    *listed = provider_payments{};
    self->send(probe, list_provider_payments{0});
    sched.run();
    for (auto& p : listed->items)
      if (p.payment_id == pid) return p.status;
    return "";
  }

  uint64_t charges() { return provider_charges() - charges_before; }

  payment_state stored() {
    return entity::decode<payment_state>(
        store_state().rows[{payment_intent::entity_type, pid}].state);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(payment_intent_tests, fixture)

CAF_TEST(a card payment succeeds once its outcome is durable and a repeat calls nobody) {
  auto confirms = provider_calls("confirm", "succeeded");
  auto rid = send_only(authorize(1));
  sched.run();
  for (int i = 0; i < 2; ++i) {
    CAF_CHECK_EQUAL(got->count(rid), 0u); // the intent, then the provider's outcome, are written
    commit_one();
  }
  CAF_REQUIRE_EQUAL(got->count(rid), 1u);
  auto& r = got->at(rid);
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.view.status, "succeeded");
  CAF_CHECK_EQUAL(r.view.amount.amount, 4200);
  CAF_CHECK_EQUAL(r.view.provider_ref, "sim_test0000001");
  CAF_CHECK_EQUAL(stored().status, "succeeded");
  CAF_CHECK_EQUAL(provider_calls("confirm", "succeeded"), confirms + 1);
  CAF_CHECK_EQUAL(charges(), 1u);
  // The same step again (the checkout retrying) and a later attempt: the same answer, no call.
  auto saves = store_state().saves;
  for (int64_t attempt : {1, 2}) {
    auto& again = ask(authorize(attempt));
    CAF_REQUIRE(!again.err);
    CAF_CHECK_EQUAL(again.view.status, "succeeded");
  }
  CAF_CHECK_EQUAL(provider_calls("confirm", "succeeded"), confirms + 1);
  CAF_CHECK_EQUAL(charges(), 1u);
  CAF_CHECK_EQUAL(store_state().saves, saves);
}

CAF_TEST(a declined card fails with its decline code and stays failed) {
  auto& r = ask(authorize(1, "tok_chargeDeclined"));
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.view.status, "failed");
  CAF_CHECK_EQUAL(r.view.decline_code, "card_declined");
  auto& undo = ask(cancel_payment{{}, pid, 1});
  CAF_REQUIRE(!undo.err);
  CAF_CHECK_EQUAL(undo.view.status, "failed");
  CAF_CHECK_EQUAL(charges(), 0u);
}

CAF_TEST(an outage answers unavailable and only a new attempt calls the provider again) {
  fault("down");
  auto failures = provider_calls("confirm", "error");
  auto& r = ask(authorize(1));
  CAF_CHECK_EQUAL(code_of(r), errc::unavailable);
  CAF_CHECK_EQUAL(provider_calls("confirm", "error"), failures + 1);
  CAF_CHECK_EQUAL(stored().status, "requires_confirmation");
  CAF_CHECK_EQUAL(stored().last_error, "connection refused (fault: down)");
  // The same attempt answers the same failure without calling again.
  auto& same = ask(authorize(1));
  CAF_CHECK_EQUAL(code_of(same), errc::unavailable);
  CAF_CHECK_EQUAL(provider_calls("confirm", "error"), failures + 1);
  fault("ok");
  auto& next = ask(authorize(2));
  CAF_REQUIRE(!next.err);
  CAF_CHECK_EQUAL(next.view.status, "succeeded");
  CAF_CHECK_EQUAL(next.view.last_error, "");
  CAF_CHECK_EQUAL(charges(), 1u);
  CAF_CHECK_EQUAL(at_provider(), "succeeded");
}

CAF_TEST(the circuit opens after repeated failures and then refuses calls at once) {
  fault("down");
  auto refused = provider_calls("confirm", "refused");
  for (int64_t attempt = 1; attempt <= 3; ++attempt)
    CAF_CHECK_EQUAL(code_of(ask(authorize(attempt))), errc::unavailable);
  CAF_CHECK_EQUAL(provider_calls("confirm", "refused"), refused);
  fault("ok"); // the provider is back, but the circuit is open until its cooldown
  auto& r = ask(authorize(4));
  CAF_CHECK_EQUAL(code_of(r), errc::unavailable);
  CAF_CHECK_EQUAL(provider_calls("confirm", "refused"), refused + 1);
  CAF_CHECK_EQUAL(stored().last_error, "circuit open");
  CAF_CHECK_EQUAL(charges(), 0u);
  CAF_CHECK_EQUAL(at_provider(), "");
}

CAF_TEST(an authorisation is captured once and cancelling afterwards refunds) {
  auto& r = ask(authorize(1, "tok_visa", true));
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.view.status, "requires_capture");
  CAF_CHECK_EQUAL(charges(), 0u);
  auto& c = ask(capture_payment{{}, pid, 1});
  CAF_REQUIRE(!c.err);
  CAF_CHECK_EQUAL(c.view.status, "succeeded");
  CAF_CHECK_EQUAL(charges(), 1u);
  auto captures = provider_calls("capture", "succeeded");
  auto& again = ask(capture_payment{{}, pid, 2});
  CAF_CHECK(!again.err);
  CAF_CHECK_EQUAL(again.view.status, "succeeded");
  CAF_CHECK_EQUAL(provider_calls("capture", "succeeded"), captures);
  auto& undo = ask(cancel_payment{{}, pid, 1});
  CAF_REQUIRE(!undo.err);
  CAF_CHECK_EQUAL(undo.view.status, "refunded");
  CAF_CHECK_EQUAL(at_provider(), "refunded");
  auto& undo_again = ask(cancel_payment{{}, pid, 2});
  CAF_CHECK_EQUAL(undo_again.view.status, "refunded");
}

CAF_TEST(cancelling an authorisation voids it and nothing can charge it later) {
  CAF_REQUIRE_EQUAL(ask(authorize(1, "tok_visa", true)).view.status, "requires_capture");
  auto& undo = ask(cancel_payment{{}, pid, 1});
  CAF_REQUIRE(!undo.err);
  CAF_CHECK_EQUAL(undo.view.status, "canceled");
  CAF_CHECK_EQUAL(at_provider(), "canceled");
  CAF_CHECK_EQUAL(code_of(ask(capture_payment{{}, pid, 1})), errc::invalid_state);
  CAF_CHECK_EQUAL(ask(authorize(2)).view.status, "canceled");
  CAF_CHECK_EQUAL(charges(), 0u);
}

CAF_TEST(a payment cancelled before any confirmation is a tombstone) {
  auto& undo = ask(cancel_payment{{}, pid, 1});
  CAF_REQUIRE(!undo.err);
  CAF_CHECK_EQUAL(undo.view.status, "canceled");
  auto& late = ask(authorize(1));
  CAF_REQUIRE(!late.err);
  CAF_CHECK_EQUAL(late.view.status, "canceled");
  CAF_CHECK_EQUAL(at_provider(), "");
  CAF_CHECK_EQUAL(charges(), 0u);
}

CAF_TEST(a call lost with its provider fails at the call deadline and a new attempt succeeds) {
  caf::anon_send_exit(provider, caf::exit_reason::kill);
  sched.run();
  auto rid = send_only(authorize(1));
  settle();
  CAF_CHECK_EQUAL(got->count(rid), 0u);
  CAF_CHECK_EQUAL(stored().op, "confirm");
  // call_cap_ms 2 s plus the 5 s margin.
  advance_time(6s);
  settle();
  CAF_CHECK_EQUAL(got->count(rid), 0u);
  advance_time(1s);
  settle();
  CAF_REQUIRE_EQUAL(got->count(rid), 1u);
  CAF_CHECK_EQUAL(code_of(got->at(rid)), errc::unavailable);
  CAF_CHECK_EQUAL(stored().status, "requires_confirmation");
  CAF_CHECK_EQUAL(stored().op, "");
  start_provider();
  auto& next = ask(authorize(2));
  CAF_REQUIRE(!next.err);
  CAF_CHECK_EQUAL(next.view.status, "succeeded");
  CAF_CHECK_EQUAL(charges(), 1u);
}

CAF_TEST(a late provider answer for an old call changes nothing) {
  CAF_REQUIRE_EQUAL(ask(authorize(1)).view.status, "succeeded");
  auto saves = store_state().saves;
  provider_result late;
  late.payment_id = pid;
  late.call = 1;
  late.outcome = "declined";
  late.decline_code = "card_declined";
  auto& r = ask(late);
  CAF_CHECK(!r.err);
  CAF_CHECK_EQUAL(r.view.status, "succeeded");
  CAF_CHECK_EQUAL(store_state().saves, saves);
}

CAF_TEST(provider events apply once and money the provider took always counts) {
  CAF_REQUIRE_EQUAL(ask(cancel_payment{{}, pid, 1}).view.status, "canceled");
  auto& took = ask(provider_event{{}, pid, "evt_1", "succeeded", "", "sim_x"});
  CAF_REQUIRE(!took.err);
  CAF_CHECK_EQUAL(took.view.status, "succeeded");
  CAF_CHECK_EQUAL(took.view.provider_ref, "sim_x");
  auto& refunded = ask(provider_event{{}, pid, "evt_2", "refunded", "", ""});
  CAF_CHECK_EQUAL(refunded.view.status, "refunded");
  auto saves = store_state().saves;
  auto& repeat = ask(provider_event{{}, pid, "evt_1", "succeeded", "", "sim_x"});
  CAF_CHECK_EQUAL(repeat.view.status, "refunded");
  CAF_CHECK_EQUAL(store_state().saves, saves);
  // Not ours: an event for a payment we never made.
  auto& stranger = ask(provider_event{{}, "pi_unknown00001", "evt_3", "succeeded", "", ""});
  CAF_CHECK_EQUAL(stranger.view.status, "");
}

CAF_TEST(circuit breaker opens after failures in a row and lets one probe through) {
  circuit_breaker b{3, 1000};
  CAF_CHECK(lets_through(b, 0));
  b.failed(0);
  b.failed(1);
  b.succeeded(); // a success in between starts the count again
  b.failed(2);
  b.failed(3);
  CAF_CHECK(b.current() == circuit_breaker::state::closed);
  b.failed(4);
  CAF_CHECK(b.current() == circuit_breaker::state::open);
  CAF_CHECK(!lets_through(b, 5));
  CAF_CHECK(!lets_through(b, 1003));
  // Cooldown over: one probe, the others wait for its outcome.
  CAF_CHECK(lets_through(b, 1004));
  CAF_CHECK(b.current() == circuit_breaker::state::half_open);
  CAF_CHECK(!lets_through(b, 1005));
  // The probe fails: open again, for another full cooldown.
  b.failed(1006);
  CAF_CHECK(b.current() == circuit_breaker::state::open);
  CAF_CHECK(!lets_through(b, 2005));
  CAF_CHECK(lets_through(b, 2006));
  // The probe succeeds: closed, every call goes through.
  b.succeeded();
  CAF_CHECK(b.current() == circuit_breaker::state::closed);
  CAF_CHECK(lets_through(b, 2007));
  CAF_CHECK(lets_through(b, 2007));
}

CAF_TEST_FIXTURE_SCOPE_END()
