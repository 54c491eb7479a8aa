#pragma once

// The order index store of this node: one detached actor with its own PostgreSQL connection.
// Everything that queued while it wrote goes into its next transaction (the newest status of each
// order first, so an order confirmed a moment ago counts for the fraud rule of the next; then the
// inserts), so index upkeep costs one commit per burst, not per order. An order's status updates
// always come after its insert committed: the reserve step waits for it.

#include "actors/protocol/order_index.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace bookstore {

struct order_index_settings {
  std::string dsn;
  bool detached = true;
};

order_index_actor spawn_order_index(caf::event_based_actor* parent, order_index_settings settings);

order_index_actor make_order_index(caf::actor_system& sys, order_index_settings settings);

} // namespace bookstore
