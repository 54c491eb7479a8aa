#include "actors/payments/payment_region.hpp"

#include "actors/entity/shard_region.hpp"

namespace bookstore {

payment_actor make_payment_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                        entity::runtime_settings rt, payment_intent::settings settings) {
  auto region = sys.spawn(entity::shard_region<payment_intent>, std::move(store), std::move(rt),
                          std::move(settings));
  return caf::actor_cast<payment_actor>(region);
}

payment_actor spawn_payment_region(caf::event_based_actor* parent,
                         service_ref<snapshot_store_actor> store, entity::runtime_settings rt,
                         payment_intent::settings settings) {
  auto region = parent->spawn<caf::linked>(entity::shard_region<payment_intent>, std::move(store),
                                           std::move(rt), std::move(settings));
  return caf::actor_cast<payment_actor>(region);
}

} // namespace bookstore
