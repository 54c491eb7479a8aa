#pragma once

// Starts the inventory region of this node: the one address of every inventory item.

#include "actors/common/service_ref.hpp"
#include "actors/entity/settings.hpp"
#include "actors/inventory/inventory_item.hpp"
#include "actors/protocol/snapshot_store.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace bookstore {

inventory_actor make_inventory_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                                      entity::runtime_settings rt,
                                      inventory_item::settings settings);

/// The same, as a child of `parent` (linked, so it dies with it).
inventory_actor spawn_inventory_region(caf::event_based_actor* parent, service_ref<snapshot_store_actor> store,
                                       entity::runtime_settings rt,
                                       inventory_item::settings settings);

} // namespace bookstore
