#include "actors/payments/reconciler.hpp"

#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/common/time.hpp"
#include "actors/protocol/errc.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace bookstore {

namespace {

using tick_atom = caf::atom_constant<caf::atom("reconcile")>;

struct reconciler_state {
  reconciler_settings cfg;
  bool running = false;
  /// Payments found settled (id -> when): not asked about again within the lookback, so a run
  /// costs one order lookup per new payment, not per payment of the day.
  std::unordered_map<std::string, int64_t> settled;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "reconciler";
};

using pointer = caf::stateful_actor<reconciler_state>*;

/// Statuses in which the order already accounts for its payment.
bool settled(const std::string& status, const std::string& payment) {
  if (status == "confirmed" || status == "shipped" || status == "delivered")
    return true;
  if (status == "manual_review")
    return payment == "requires_capture";
  return status == "refunded"; // its own refund step is under way or done
}

/// Statuses from which the order still goes on to confirm (a review may be approved).
bool in_checkout(const std::string& status) {
  return status == "pending" || status == "reserved" || status == "payment_pending"
         || status == "manual_review";
}

void audit(pointer self, const std::string& action, const provider_payment& p,
           const std::string& order_status) {
  if (auto a = self->state.cfg.audit.get())
    self->send(a, audit_entry{"reconciler", action, p.payment_id, "", "",
                              "{\"provider_status\":\"" + p.status + "\",\"order_status\":\""
                                + order_status + "\"}"});
}

/// Tells the payment what the provider says, then (`refund`) undoes it.
void settle(pointer self, const provider_payment& p, const std::string& order_status, bool refund) {
  auto payments = self->state.cfg.payments.get();
  if (!payments)
    return;
  auto now = unix_ms_now();
  request_ctx ctx{"reconcile-" + p.payment_id, now + 30000, ""};
  provider_event ev{ctx, p.payment_id, "reconcile:" + p.payment_id + ":" + p.status,
                    p.status == "succeeded" ? "succeeded" : "authorised", "", p.provider_ref};
  self->request(payments, std::chrono::seconds(30), std::move(ev))
    .then(
      [self, p, order_status, refund, payments, ctx, now](payment_view&) {
        if (!refund) {
          audit(self, "payment.reconciled", p, order_status);
          return;
        }
        // A fresh attempt: an earlier failed refund must not answer for this one.
        self->request(payments, std::chrono::seconds(30), cancel_payment{ctx, p.payment_id, now})
          .then(
            [self, p, order_status](payment_view& v) {
              log::warn(*self->state.log, "-", "reconciler: {} had no order to pay for ({}): {}",
                        p.payment_id, order_status, v.status);
              audit(self, "payment.reconciled_refund", p, order_status);
            },
            [self, p](caf::error& err) {
              log::warn(*self->state.log, "-", "reconciler: refunding {} failed: {}",
                        p.payment_id, to_string(err));
            });
      },
      [self, p](caf::error& err) {
        log::warn(*self->state.log, "-", "reconciler: {} not settled: {}", p.payment_id,
                  to_string(err));
      });
}

void check(pointer self, const provider_payment& p) {
  auto orders = self->state.cfg.orders.get();
  if (!orders || p.payment_id.size() < 4)
    return;
  auto order_id = "ord_" + p.payment_id.substr(3);
  request_ctx ctx{"reconcile-" + p.payment_id, unix_ms_now() + 30000, ""};
  self->request(orders, std::chrono::seconds(30), get_order{ctx, order_id, true})
    .then(
      [self, p](order_view& o) {
        if (settled(o.status, o.payment_status)) {
          self->state.settled.emplace(p.payment_id, unix_ms_now());
          return;
        }
        // Still checking out: it learns the payment went through and confirms on its next try.
        settle(self, p, o.status, !in_checkout(o.status));
      },
      [self, p](caf::error& err) {
        if (describe(err).code == errc::not_found)
          settle(self, p, "missing", true);
      });
}

void run(pointer self) {
  auto& st = self->state;
  auto provider = st.cfg.provider.get();
  if (!provider || st.running)
    return;
  st.running = true;
  auto since = unix_ms_now() - st.cfg.lookback.count();
  for (auto it = st.settled.begin(); it != st.settled.end();)
    it = it->second < since ? st.settled.erase(it) : std::next(it);
  list_provider_payments q{since};
  self->request(provider, std::chrono::seconds(60), q)
    .then(
      [self](provider_payments& ps) {
        self->state.running = false;
        metrics::global()
          .get_counter("bookstore_reconciler_runs_total",
                       "Reconciler runs that listed the provider's payments")
          .inc();
        auto settled_before = unix_ms_now() - self->state.cfg.grace.count();
        for (auto& p : ps.items)
          if ((p.status == "succeeded" || p.status == "requires_capture")
              && p.created_at <= settled_before && self->state.settled.count(p.payment_id) == 0)
            check(self, p);
      },
      [self](caf::error& err) {
        self->state.running = false;
        log::warn(*self->state.log, "-", "reconciler: listing provider payments failed: {}",
                  to_string(err));
      });
}

caf::behavior reconciler(pointer self, reconciler_settings cfg) {
  self->state.cfg = std::move(cfg);
  self->state.log = log::get("payments");
  self->delayed_send(self, self->state.cfg.interval, tick_atom::value);
  return {
    [self](tick_atom) {
      run(self);
      self->delayed_send(self, self->state.cfg.interval, tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_reconciler(caf::event_based_actor* parent, reconciler_settings settings) {
  return parent->spawn<caf::linked>(reconciler, std::move(settings));
}

} // namespace bookstore
