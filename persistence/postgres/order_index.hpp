#pragma once

// The order index reader of this node: one detached actor with its own PostgreSQL connection.
// IP questions that queue up while it queries go out as one statement. The rows it reads are
// written by the snapshot writers, with the orders' snapshots (snapshot_sql.cpp).

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
