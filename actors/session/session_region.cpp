#include "actors/session/session_region.hpp"

#include "actors/entity/shard_region.hpp"

namespace bookstore {

session_actor make_session_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                                      entity::runtime_settings rt,
                                      user_session::settings settings) {
  auto region = sys.spawn(entity::shard_region<user_session>, std::move(store), std::move(rt),
                          std::move(settings));
  return caf::actor_cast<session_actor>(region);
}

session_actor spawn_session_region(caf::event_based_actor* parent, service_ref<snapshot_store_actor> store,
                                       entity::runtime_settings rt,
                                       user_session::settings settings) {
  auto region = parent->spawn<caf::linked>(entity::shard_region<user_session>, std::move(store),
                                           std::move(rt), std::move(settings));
  return caf::actor_cast<session_actor>(region);
}

} // namespace bookstore
