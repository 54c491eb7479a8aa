#pragma once

// The reconciler: every interval it lists the provider's payments of the lookback window and
// settles each one older than the grace period that took or holds money without a confirmed order: an order still in its
// checkout learns the payment went through (it then confirms); an order that failed, was
// cancelled or does not exist gets its money back (refund, or void of an authorisation). Each
// action is written to the audit log (actor "reconciler").

#include "actors/common/service_ref.hpp"
#include "actors/protocol/accounts.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/protocol/payments.hpp"

#include <caf/fwd.hpp>

#include <chrono>

namespace bookstore {

struct reconciler_settings {
  std::chrono::milliseconds interval{std::chrono::minutes(5)};
  std::chrono::milliseconds lookback{std::chrono::hours(24)};
  /// Younger payments are left to their checkout, which is likely still running.
  std::chrono::milliseconds grace{std::chrono::minutes(10)};
  service_ref<provider_actor> provider;
  service_ref<order_actor> orders;
  service_ref<payment_actor> payments;
  service_ref<accounts_actor> audit;
};

caf::actor spawn_reconciler(caf::event_based_actor* parent, reconciler_settings settings);

} // namespace bookstore
