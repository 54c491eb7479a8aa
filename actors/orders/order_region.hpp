#pragma once

// Starts the orders region of this node: the one address of every order entity.

#include "actors/common/service_ref.hpp"
#include "actors/entity/settings.hpp"
#include "actors/orders/order.hpp"
#include "actors/protocol/snapshot_store.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace bookstore {

order_actor make_order_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                        entity::runtime_settings rt, order::settings settings);

/// The same, as a child of `parent` (linked, so it dies with it).
order_actor spawn_order_region(caf::event_based_actor* parent,
                         service_ref<snapshot_store_actor> store, entity::runtime_settings rt,
                         order::settings settings);

} // namespace bookstore
