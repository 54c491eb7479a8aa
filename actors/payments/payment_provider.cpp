#include "actors/payments/payment_provider.hpp"

#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/common/time.hpp"
#include "actors/payments/circuit_breaker.hpp"
#include "actors/payments/stripe_client.hpp"

#include <caf/all.hpp>

#include <set>
#include <unordered_map>

namespace bookstore {

namespace {

/// A call finished (or ran out of time): a message the service sends itself.
struct call_done {
  std::string key;
  provider_result result;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_done& x) {
  return f(caf::meta::type_name("call_done"), x.key, x.result);
}

} // namespace
} // namespace bookstore

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bookstore::call_done)

namespace bookstore {

namespace {

using self_actor = provider_actor::extend<caf::reacts_to<call_done>>;

/// What the simulated provider holds of one payment intent.
struct sim_payment {
  std::string status; ///< succeeded, requires_capture, failed, canceled, refunded
  money amount;
  std::string ref;
  int64_t created_at = 0;
};

struct provider_state {
  provider_settings cfg;
  circuit_breaker breaker;
  std::set<std::string> in_flight; ///< payment id + ":" + call
  std::string fault = "ok";
  std::unordered_map<std::string, sim_payment> sims;
  std::vector<caf::actor> stripe_workers;
  size_t next_worker = 0;
  std::shared_ptr<spdlog::logger> log;
  metrics::gauge* circuit = nullptr;
  metrics::counter* charges = nullptr;
  static inline const char* name = "payment_provider";
};

using pointer = self_actor::stateful_pointer<provider_state>;

metrics::counter& calls_metric(const std::string& op, const std::string& outcome) {
  return metrics::global().get_counter("bookstore_provider_calls_total",
                                       "Calls to the payment provider, by operation and outcome",
                                       {{"op", op}, {"outcome", outcome}});
}

provider_result error_result(const provider_call& c, std::string why) {
  provider_result r;
  r.payment_id = c.payment_id;
  r.call = c.call;
  r.outcome = "error";
  r.error = std::move(why);
  return r;
}

/// The simulated provider: Stripe's test tokens, and each intent's state kept here so repeats
/// are idempotent (a second confirm of a paid intent does not charge again).
provider_result simulate(provider_state& st, const provider_call& c, int64_t now) {
  provider_result r;
  r.payment_id = c.payment_id;
  r.call = c.call;
  auto it = st.sims.find(c.payment_id);
  if (c.op == "confirm") {
    if (it == st.sims.end()) {
      sim_payment p;
      p.amount = c.amount;
      p.ref = "sim_" + c.payment_id.substr(c.payment_id.find('_') + 1);
      p.created_at = now;
      it = st.sims.emplace(c.payment_id, p).first;
    }
    auto& p = it->second;
    if (p.status.empty() || p.status == "failed") {
      if (c.token == "tok_visa" || c.token == "tok_mastercard") {
        p.status = c.manual_capture ? "requires_capture" : "succeeded";
        if (!c.manual_capture)
          st.charges->inc();
      } else {
        p.status = "failed";
        r.decline_code = c.token == "tok_chargeDeclinedInsufficientFunds" ? "insufficient_funds"
                         : c.token == "tok_chargeDeclined"               ? "card_declined"
                                                                          : "invalid_token";
      }
    }
    r.outcome = p.status == "failed" ? "declined" : p.status;
    if (r.outcome == "declined" && r.decline_code.empty())
      r.decline_code = "card_declined";
    r.provider_ref = p.ref;
    return r;
  }
  if (it == st.sims.end())
    return error_result(c, "no such payment intent at the provider");
  auto& p = it->second;
  r.provider_ref = p.ref;
  if (c.op == "capture" && (p.status == "requires_capture" || p.status == "succeeded")) {
    if (p.status == "requires_capture")
      st.charges->inc();
    p.status = "succeeded";
  } else if (c.op == "cancel" && (p.status == "requires_capture" || p.status == "canceled")) {
    p.status = "canceled";
  } else if (c.op == "refund" && (p.status == "succeeded" || p.status == "refunded")) {
    p.status = "refunded";
  } else {
    return error_result(c, "payment intent is " + p.status + ", cannot " + c.op);
  }
  r.outcome = p.status;
  return r;
}

void publish_circuit(provider_state& st) {
  st.circuit->set(static_cast<int64_t>(st.breaker.current()));
}

void finish(pointer self, call_done& done) {
  auto& st = self->state;
  if (st.in_flight.erase(done.key) == 0)
    return; // already answered (the cap fired first)
  auto& r = done.result;
  if (r.outcome == "error")
    st.breaker.failed(unix_ms_now());
  else
    st.breaker.succeeded();
  publish_circuit(st);
  auto op = done.key.substr(done.key.rfind('#') + 1);
  calls_metric(op, r.outcome).inc();
  if (r.outcome == "error")
    log::warn(*st.log, r.ctx.request_id, "provider call {} for {} failed: {}", op, r.payment_id,
              r.error);
  if (auto payments = st.cfg.payments.get())
    self->request(payments, caf::infinite, std::move(r))
      .then([](payment_view&) {}, [](caf::error&) {});
}

caf::behavior stripe_worker(caf::event_based_actor*, stripe::config cfg) {
  return {
    [cfg](provider_call& c) { return stripe::execute(cfg, c); },
    [cfg](list_provider_payments& q) { return stripe::list(cfg, q.since_ms); },
  };
}

void call(pointer self, provider_call& c) {
  auto& st = self->state;
  auto key = c.payment_id + ":" + std::to_string(c.call) + "#" + c.op;
  if (st.in_flight.count(key) != 0)
    return; // the entity handed the same call over again (it was written twice)
  auto now = unix_ms_now();
  if (!st.breaker.allow(now)) {
    publish_circuit(st);
    calls_metric(c.op, "refused").inc();
    auto r = error_result(c, "circuit open");
    r.ctx.request_id = c.request_id;
    if (auto payments = st.cfg.payments.get())
      self->request(payments, caf::infinite, std::move(r))
        .then([](payment_view&) {}, [](caf::error&) {});
    return;
  }
  publish_circuit(st);
  st.in_flight.insert(key);
  auto cap = st.cfg.call_cap;
  if (st.cfg.kind == "stripe") {
    auto& worker = st.stripe_workers[st.next_worker++ % st.stripe_workers.size()];
    self->request(worker, cap + std::chrono::seconds(1), c)
      .then(
        [self, key](provider_result& r) { self->send(self, call_done{key, std::move(r)}); },
        [self, key, c](caf::error& err) {
          self->send(self, call_done{key, error_result(c, "timeout: " + to_string(err))});
        });
    return;
  }
  // simulated
  if (st.fault == "down") {
    self->send(self, call_done{key, error_result(c, "connection refused (fault: down)")});
    return;
  }
  auto delay = st.fault == "slow" ? st.cfg.slow_latency : st.cfg.latency;
  // The provider acts on the call even when its answer comes too late for us.
  auto r = simulate(st, c, now);
  r.ctx.request_id = c.request_id;
  if (delay >= cap) {
    self->delayed_send(self, cap, call_done{key, error_result(c, "timeout")});
    return;
  }
  if (delay.count() == 0)
    self->send(self, call_done{key, std::move(r)});
  else
    self->delayed_send(self, delay, call_done{key, std::move(r)});
}

self_actor::behavior_type provider(pointer self, provider_settings cfg) {
  auto& st = self->state;
  st.breaker = circuit_breaker{cfg.breaker_failures, cfg.breaker_cooldown.count()};
  st.log = log::get("payments");
  st.circuit = &metrics::global().get_gauge(
    "bookstore_provider_circuit", "Payment provider circuit: 0 closed, 1 open, 2 half-open");
  st.charges = &metrics::global().get_counter(
    "bookstore_provider_charges_total", "Payments captured by the provider (money taken)");
  if (cfg.kind == "stripe") {
    stripe::config sc{cfg.stripe_base_url, cfg.stripe_secret_key, cfg.call_cap};
    for (size_t i = 0; i < std::max<size_t>(1, cfg.stripe_threads); ++i)
      st.stripe_workers.push_back(
        self->spawn<caf::detached + caf::linked>(stripe_worker, sc));
  }
  st.cfg = std::move(cfg);
  return {
    [self](provider_call& c) { call(self, c); },
    [self](call_done& d) { finish(self, d); },
    [self](list_provider_payments& q) -> caf::result<provider_payments> {
      auto& st = self->state;
      if (st.cfg.kind == "stripe") {
        auto rp = self->make_response_promise<provider_payments>();
        auto& worker = st.stripe_workers[st.next_worker++ % st.stripe_workers.size()];
        self->request(worker, std::chrono::seconds(60), q)
          .then([rp](provider_payments& ps) mutable { rp.deliver(std::move(ps)); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      }
      provider_payments out;
      for (auto& [id, p] : st.sims)
        if (p.created_at >= q.since_ms)
          out.items.push_back(provider_payment{id, p.ref, p.status, p.amount, p.created_at});
      return out;
    },
    [self](set_provider_fault& f) {
      self->state.fault = f.mode;
      log::warn(*self->state.log, "-", "payment provider fault set to {}", f.mode);
      return true;
    },
  };
}

} // namespace

provider_actor spawn_payment_provider(caf::event_based_actor* parent, provider_settings settings) {
  return caf::actor_cast<provider_actor>(parent->spawn<caf::linked>(provider, std::move(settings)));
}

provider_actor make_payment_provider(caf::actor_system& sys, provider_settings settings) {
  return caf::actor_cast<provider_actor>(sys.spawn(provider, std::move(settings)));
}

} // namespace bookstore
