#include "actors/orders/order_region.hpp"

#include "actors/entity/shard_region.hpp"

namespace bookstore {

order_actor make_order_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                        entity::runtime_settings rt, order::settings settings) {
  auto region = sys.spawn(entity::shard_region<order>, std::move(store), std::move(rt),
                          std::move(settings));
  return caf::actor_cast<order_actor>(region);
}

order_actor spawn_order_region(caf::event_based_actor* parent,
                         service_ref<snapshot_store_actor> store, entity::runtime_settings rt,
                         order::settings settings) {
  auto region = parent->spawn<caf::linked>(entity::shard_region<order>, std::move(store),
                                           std::move(rt), std::move(settings));
  return caf::actor_cast<order_actor>(region);
}

} // namespace bookstore
