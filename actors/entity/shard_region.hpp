#pragma once

// shard_region: the only way to reach an entity. It speaks the entity type's interface, hashes
// the entity id into one of `shards` shards and hands the message to that shard's actor
// (`delegate`: the entity answers the original requester). Shards start on first use. Its
// interface is about entity type and id, never about where: the cluster issue will make it
// forward to the node that owns the shard.
//
// Entities with work due keep their own timers in their shards (entity_shard.hpp, "Timers"). The
// region finds those no shard remembers: at its start (a node that restarts resumes every order
// under way), after a shard failed, and every wake-interval as a safety net, it asks the snapshot
// store which entities are due within the next wake-interval and sends each a wake_entity. That
// lookup reads the whole snapshot table (no index on wake_at: one would make nearly every
// snapshot update a non-HOT one), so it is rare by design.

#include "actors/entity/entity_shard.hpp"

namespace bookstore::entity {

using wake_tick_atom = caf::atom_constant<caf::atom("rwake")>;

template <class Entity>
using region_actor = typename Entity::actor_type::template extend<caf::reacts_to<wake_tick_atom>>;

template <class Entity>
struct region_state {
  std::vector<shard_actor<Entity>> shards;
  service_ref<snapshot_store_actor> store;
  runtime_settings rt;
  typename Entity::settings es;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "shard_region";
};

namespace detail {

template <class Entity>
using region_pointer =
  typename region_actor<Entity>::template stateful_pointer<region_state<Entity>>;

template <class Entity>
shard_actor<Entity>& shard_for(region_pointer<Entity> self, const std::string& id) {
  auto& st = self->state;
  auto& slot = st.shards[shard_of(id, st.shards.size())];
  if (!slot)
    slot = self->template spawn<caf::linked>(entity_shard<Entity>, st.store, st.rt, st.es);
  return slot;
}

template <class Entity, class Msg, class Reply>
auto forwarder(region_pointer<Entity> self) {
  return [self](Msg& msg) -> caf::delegated<Reply> {
    auto& shard = shard_for<Entity>(self, Entity::id_of(msg));
    return self->delegate(shard, std::move(msg));
  };
}

template <class Entity>
void ask_for_due(region_pointer<Entity> self) {
  auto& st = self->state;
  auto horizon = std::chrono::duration_cast<std::chrono::milliseconds>(st.rt.wake_interval);
  auto now = st.rt.clock ? st.rt.clock() : unix_ms_now();
  auto store = st.store.get();
  if (!store)
    return; // restarting: the next tick asks again
  find_due req{Entity::entity_type, now + horizon.count(), 10000};
  self->request(store, st.rt.store_timeout, std::move(req))
    .then(
      [self](entity_ids& due) {
        for (auto& id : due.ids) {
          auto& shard = shard_for<Entity>(self, id);
          self->send(shard, wake_entity{id});
        }
      },
      [self](caf::error& err) {
        log::warn(*self->state.log, "-", "looking up due {} entities failed: {}",
                  Entity::entity_type, to_string(err));
      });
}

template <class Entity, class... Msgs, class... Replies>
typename region_actor<Entity>::behavior_type
region_behavior(region_pointer<Entity> self, command_list<command<Msgs, Replies>...>) {
  return {
    forwarder<Entity, Msgs, Replies>(self)...,
    [self](wake_entity& w) {
      auto& shard = shard_for<Entity>(self, w.entity_id);
      self->send(shard, std::move(w));
    },
    [self](wake_tick_atom) {
      ask_for_due<Entity>(self);
      self->delayed_send(self, self->state.rt.wake_interval, wake_tick_atom::value);
    },
  };
}

} // namespace detail

/// The behavior of the region of entity type `Entity` on this node.
template <class Entity>
typename region_actor<Entity>::behavior_type
shard_region(detail::region_pointer<Entity> self, service_ref<snapshot_store_actor> store,
             runtime_settings rt, typename Entity::settings es) {
  auto& st = self->state;
  st.shards.resize(rt.shards);
  st.store = std::move(store);
  st.rt = std::move(rt);
  st.es = std::move(es);
  st.log = log::get(Entity::entity_type);
  // A shard that fails takes only its own entities down; they reload on their next message, and
  // those with work due at once, as the lookup finds them (their timers went with the shard).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& shard : self->state.shards) {
      if (shard && shard.address() == msg.source) {
        log::warn(*self->state.log, "-", "{} shard stopped: {}", Entity::entity_type,
                  to_string(msg.reason));
        shard = nullptr;
        detail::ask_for_due<Entity>(self);
        return;
      }
    }
    self->quit(msg.reason); // our supervisor or another linked actor went away
  });
  self->send(self, wake_tick_atom::value);
  return detail::region_behavior<Entity>(self, typename Entity::commands{});
}

} // namespace bookstore::entity
