#include "actors/inventory/inventory_region.hpp"

#include "actors/entity/shard_region.hpp"

namespace bookstore {

inventory_actor make_inventory_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                                      entity::runtime_settings rt,
                                      inventory_item::settings settings) {
  auto region = sys.spawn(entity::shard_region<inventory_item>, std::move(store), std::move(rt),
                          std::move(settings));
  return caf::actor_cast<inventory_actor>(region);
}

inventory_actor spawn_inventory_region(caf::event_based_actor* parent, service_ref<snapshot_store_actor> store,
                                       entity::runtime_settings rt,
                                       inventory_item::settings settings) {
  auto region = parent->spawn<caf::linked>(entity::shard_region<inventory_item>, std::move(store),
                                           std::move(rt), std::move(settings));
  return caf::actor_cast<inventory_actor>(region);
}

} // namespace bookstore
