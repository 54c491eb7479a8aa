#pragma once

// Starts the session region of this node: the one address of every user session.

#include "actors/common/service_ref.hpp"
#include "actors/entity/settings.hpp"
#include "actors/session/user_session.hpp"
#include "actors/protocol/snapshot_store.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace bookstore {

session_actor make_session_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                                      entity::runtime_settings rt,
                                      user_session::settings settings);

/// The same, as a child of `parent` (linked, so it dies with it).
session_actor spawn_session_region(caf::event_based_actor* parent, service_ref<snapshot_store_actor> store,
                                       entity::runtime_settings rt,
                                       user_session::settings settings);

} // namespace bookstore
