#pragma once

// The checkout service of a node: carries out the saga steps order entities hand it (reserve
// stock in parallel, pay, commit, capture, undo) and reports each outcome back to the order as an
// order_event. It holds nothing that must survive: a step lost with a crashed node is handed out
// again by its order (timeout or activation). It also serves order lists from the order index.

#include "actors/common/service_ref.hpp"
#include "actors/protocol/inventory.hpp"
#include "actors/protocol/order_index.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/protocol/payments.hpp"
#include "actors/protocol/session.hpp"

#include <caf/fwd.hpp>

#include <chrono>

namespace bookstore {

struct checkout_settings {
  service_ref<order_actor> orders;
  service_ref<inventory_actor> inventory;
  service_ref<payment_actor> payments;
  service_ref<session_actor> sessions;
  service_ref<order_index_actor> index;
  /// The deadline each call of a step carries (its order hands the step out again after 3x this).
  std::chrono::milliseconds step_timeout{10000};
  /// How long the payment step waits for the provider's outcome before the order is reported
  /// `payment_pending` (the call itself goes on, capped by the provider service).
  std::chrono::milliseconds payment_wait{3000};
  /// How long reservations are held (each payment retry extends them by this again).
  int64_t reservation_ttl_ms = 15 * 60 * 1000;
};

checkout_actor spawn_checkout(caf::event_based_actor* parent, checkout_settings settings);
checkout_actor make_checkout(caf::actor_system& sys, checkout_settings settings);

} // namespace bookstore
