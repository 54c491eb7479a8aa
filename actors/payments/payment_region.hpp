#pragma once

// Starts the payments region of this node: the one address of every payment_intent entity.

#include "actors/common/service_ref.hpp"
#include "actors/entity/settings.hpp"
#include "actors/payments/payment_intent.hpp"
#include "actors/protocol/snapshot_store.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace bookstore {

payment_actor make_payment_region(caf::actor_system& sys, service_ref<snapshot_store_actor> store,
                        entity::runtime_settings rt, payment_intent::settings settings);

/// The same, as a child of `parent` (linked, so it dies with it).
payment_actor spawn_payment_region(caf::event_based_actor* parent,
                         service_ref<snapshot_store_actor> store, entity::runtime_settings rt,
                         payment_intent::settings settings);

} // namespace bookstore
