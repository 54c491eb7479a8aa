#pragma once

// The entity runtime: one CAF actor per shard hosts the entities whose ids hash into that shard.
//
// Why not one CAF actor per entity: a CAF 0.17 event-based actor costs ~1.3 KiB of memory before
// it holds any state (sizeof(scheduled_actor) alone is 960 bytes), which rules out a million
// entities in well under a GiB. Entities here are virtual actors in Orleans' sense: each keeps its
// own state, is handled one message at a time (the shard actor is its single writer), activates
// from its latest snapshot on the first message, passivates when idle, and is dropped on failure.
//
//   (absent) --first message--> loading --snapshot--> active --idle--> (absent)
//                                  |                    |  \--write conflict/failure--> (dropped)
//                                  \--load failed-------+-----> (dropped; errors to waiters)
//
// Timers: an entity with work due (wake_at) keeps its own timer in its shard, and stays in memory
// until that work is done: it is never passivated while it has a deadline. The database's copy of
// wake_at is read only when no shard remembers the entity: at the region's start and after a
// shard failed (see shard_region.hpp). An entity dropped while it had a deadline is loaded again
// by the next sweep, and so on until a load succeeds: that is how an order whose write failed in
// a database outage resumes once the database is back.
//
// Writes: a command that changes state is answered only once a snapshot holding the change is
// committed. One write per entity is in flight; changes made meanwhile are coalesced into the
// next one. All entities of a shard that changed in one turn of the mailbox go out as one batch.
//
// Parked commands: a handler that answers errc::not_settled (it may also have changed the state)
// is not answered yet. The runtime keeps the command and runs it again after each committed
// write of that entity, until it answers something else or its request's deadline passes
// (errc::timeout). That is how a caller waits for an outcome that other actors bring about
// (an order's checkout), without the entity holding anything but its state.
//
// Unverified activations: a command the entity type says creates new entities (optional
// `assume_new(msg)`, e.g. placing an order under a fresh key) activates an absent entity without
// loading it first: it runs on the empty state, and the entity's first write (version 1) proves
// it new. If the entity existed after all, that write loses its version check; then nothing of
// the guess is kept: commands waiting on that write get errc::unavailable, parked ones run again
// once the entity is loaded. A command that leaves an unverified entity unchanged proves
// nothing: the guess is dropped and that command runs again after a load. Nothing is answered,
// nor handed on (on_durable), from a state that was not loaded or written.
//
// Entity requirements (see actors/inventory/inventory_item.hpp):
//   state_type (msgpack), settings, actor_type, commands (command_list<command<Msg, Reply>...>),
//   entity_type, schema_version, id_of(msg), handle(state, msg, env, settings) -> expected<Reply>,
//   wake_at(state) -> Unix ms or 0, on_wake(state, env, settings),
//   on_durable(self, id, state, now, settings) (after a load and after each committed write),
//   on_dropped(self, id, settings); optional: assume_new(msg) -> bool, listing(state) ->
//   order_listing (a row of the order index written with each snapshot; see snapshot_store.hpp).

#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/common/service_ref.hpp"
#include "actors/common/time.hpp"
#include "actors/entity/codec.hpp"
#include "actors/entity/settings.hpp"
#include "actors/protocol/entity.hpp"
#include "actors/protocol/errc.hpp"
#include "actors/protocol/snapshot_store.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <queue>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bookstore::entity {

using flush_atom = caf::atom_constant<caf::atom("eflush")>;
using tick_atom = caf::atom_constant<caf::atom("etick")>; ///< with the Unix ms it was set for
using sweep_atom = caf::atom_constant<caf::atom("esweep")>;
using store_check_atom = caf::atom_constant<caf::atom("echeck")>;

/// The interface of a shard actor: the entity's own plus the runtime's timers.
template <class Entity>
using shard_actor = typename Entity::actor_type::template extend<
  caf::reacts_to<flush_atom>, caf::reacts_to<tick_atom, int64_t>, caf::reacts_to<sweep_atom>,
  caf::reacts_to<store_check_atom>>;

namespace detail {

template <class Entity, class Msg, class = void>
struct has_assume_new : std::false_type {};

template <class Entity, class Msg>
struct has_assume_new<Entity, Msg,
                      std::void_t<decltype(Entity::assume_new(std::declval<const Msg&>()))>>
  : std::true_type {};

template <class Entity, class = void>
struct has_listing : std::false_type {};

template <class Entity>
struct has_listing<Entity, std::void_t<decltype(Entity::listing(
                             std::declval<const typename Entity::state_type&>()))>>
  : std::true_type {};

} // namespace detail

/// Stable across nodes and restarts (FNV-1a): the shard of an entity id.
inline size_t shard_of(const std::string& id, size_t shards) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<size_t>(h % shards);
}

template <class Entity>
struct shard_state {
  using state_type = typename Entity::state_type;
  /// Fired with nullptr once the change it waits for is durable, or with the error that dropped
  /// the entity.
  using waiter = std::function<void(const caf::error*)>;

  struct parked_command {
    int64_t deadline = 0;
    std::function<void()> rerun;
    std::function<void(const caf::error&)> fail;
  };

  /// At most this many commands wait on one entity; more are refused (unavailable).
  static constexpr size_t max_parked = 256;

  struct busy_state {
    bool loading = true;
    bool in_flight = false; ///< a write of this entity is on its way to the store
    bool dirty = false;     ///< changed since the last write went out
    uint64_t call = 0;      ///< the store call (load or write) this entity waits for
    std::vector<waiter> queued;           ///< commands that arrived while loading
    std::vector<waiter> in_flight_waiters; ///< answered when the write in flight commits
    std::vector<waiter> next_waiters;      ///< answered when the next write commits
    /// The state the write in flight holds, kept only once a change follows it (until then the
    /// entity's state is that state): see before_change.
    std::optional<state_type> written;
    std::vector<parked_command> parked;    ///< run again after the next committed write
  };

  struct slot {
    state_type state;
    int64_t version = 0;
    int64_t last_used = 0;
    int64_t wake_at = 0;              ///< the deadline registered for this entity (0 = none)
    bool unverified = false;          ///< activated without a load (see "Unverified activations")
    std::unique_ptr<busy_state> busy; ///< only while loading or writing
  };

  typename shard_actor<Entity>::template stateful_pointer<shard_state> self = nullptr;
  service_ref<snapshot_store_actor> store;
  runtime_settings rt;
  typename Entity::settings es;
  std::unordered_map<std::string, slot> slots;
  /// Entities dropped while they had a deadline: each sweep loads them again until one load
  /// succeeds (its deadline is then the loaded state's).
  std::unordered_set<std::string> lost_wakes;
  std::vector<std::string> to_load;
  std::vector<std::string> to_save;
  bool flush_wanted = false;    ///< to_load or to_save holds ids not sent yet
  bool flush_scheduled = false; ///< a flush_atom waits in the mailbox
  using deadline = std::pair<int64_t, std::string>;
  std::priority_queue<deadline, std::vector<deadline>, std::greater<deadline>> deadlines;
  int64_t tick_at = 0; ///< when the pending tick fires (0 = none)
  bool in_tick = false;
  // Calls to the snapshot store in flight, oldest first. They go out without a CAF timeout: with
  // writes spread over many entities nearly every write is its own call, and a CAF request
  // timeout costs two events on CAF's clock thread (15% of a core at 12k writes/s here). One
  // timer per shard fails calls past rt.store_timeout instead; a late answer finds its call
  // gone and is ignored.
  struct store_call {
    int64_t deadline = 0;
    std::vector<std::string> ids;
  };
  std::map<uint64_t, store_call> calls;
  uint64_t last_call = 0;
  bool store_check_armed = false;
  /// The store's writer this shard sends its writes to directly (writer_atom), one hop fewer
  /// than through the store; until the store named one, and once it is gone, writes go through
  /// the store. Only its down_msg clears it: an error it answers (the database is down, say)
  /// keeps it, so a long outage does not pile up monitors on it, one per failed write.
  snapshot_writer_actor writer;
  bool asking_writer = false;
  metrics::gauge* active = nullptr;
  metrics::counter* failures = nullptr;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "entity_shard";

  ~shard_state() {
    if (active != nullptr)
      active->add(-static_cast<int64_t>(slots.size()));
  }

  int64_t now() const { return rt.clock ? rt.clock() : unix_ms_now(); }

  /// Loads and writes go out once the message being handled is done (end_of_message).
  void schedule_flush() { flush_wanted = true; }

  /// Called after each message: what it queued for the store goes out now if no other message
  /// waits (nothing to batch it with), else behind those that wait (a flush_atom at the back of
  /// the mailbox), together with what they add. Most shards see one message at a time: that
  /// spares each write a message of its own to this shard.
  void end_of_message() {
    if (!flush_wanted || flush_scheduled)
      return;
    if (self->mailbox().empty()) {
      on_flush();
    } else {
      flush_scheduled = true;
      self->send(self, flush_atom::value);
    }
  }

  /// The slot of `id`, activating it if it is not in memory: a load is queued, unless the
  /// caller assumes it new (`unverified`).
  slot& acquire(const std::string& id, bool unverified = false) {
    auto [it, added] = slots.try_emplace(id);
    if (added) {
      active->add(1);
      if (unverified) {
        it->second.unverified = true;
      } else {
        it->second.busy = std::make_unique<busy_state>();
        to_load.push_back(id);
        schedule_flush();
      }
    }
    it->second.last_used = now();
    return it->second;
  }

  /// Drops the entity: every waiter gets `err`, except those of a write still in flight, which
  /// get `in_flight_err` when given (that write may yet commit).
  void drop(const std::string& id, const caf::error& err, const caf::error* in_flight_err = nullptr) {
    auto it = slots.find(id);
    if (it == slots.end())
      return;
    failures->inc();
    Entity::on_dropped(self, id, es);
    if (it->second.wake_at != 0 || Entity::wake_at(it->second.state) != 0)
      lost_wakes.insert(id);
    // Take the slot out first: a waiter's answer must not find a half-dropped entity.
    auto busy = std::move(it->second.busy);
    slots.erase(it);
    active->add(-1);
    if (busy) {
      for (auto& w : busy->queued) w(&err);
      for (auto& w : busy->in_flight_waiters) w(in_flight_err != nullptr ? in_flight_err : &err);
      for (auto& w : busy->next_waiters) w(&err);
      for (auto& p : busy->parked) p.fail(err);
    }
  }

  /// An unverified entity turned out to exist (or its first write is in doubt): forgets the
  /// guess and loads it; parked commands run again on the loaded state, the others are refused
  /// (they were answered from the guess). The load happens even with nothing parked: what is
  /// durable is handed on again (on_durable), e.g. a payment's provider call under way.
  void reactivate(const std::string& id) {
    auto it = slots.find(id);
    if (it == slots.end())
      return;
    Entity::on_dropped(self, id, es);
    auto busy = std::move(it->second.busy);
    slots.erase(it);
    active->add(-1);
    log::info(*log, "-", "{} {} was not new after all; loading it", Entity::entity_type, id);
    auto& s = acquire(id);
    if (!busy)
      return;
    auto err = make_error(errc::unavailable, id, "the entity existed already; ask again");
    for (auto& w : busy->in_flight_waiters) w(&err);
    for (auto& w : busy->next_waiters) w(&err);
    for (auto& q : busy->queued) s.busy->queued.push_back(std::move(q));
    for (auto& p : busy->parked)
      s.busy->queued.emplace_back([p = std::move(p)](const caf::error* err) mutable {
        if (err)
          p.fail(*err);
        else
          p.rerun();
      });
  }

  /// Drops `id` if it still waits for store call `call`.
  void drop_waiting(const std::string& id, uint64_t call, const caf::error& err) {
    auto it = slots.find(id);
    if (it != slots.end() && it->second.busy && it->second.busy->call == call)
      drop(id, err);
  }

  void settle(slot& s) {
    if (s.busy && !s.busy->loading && !s.busy->in_flight && !s.busy->dirty
        && s.busy->queued.empty() && s.busy->in_flight_waiters.empty()
        && s.busy->next_waiters.empty() && s.busy->parked.empty())
      s.busy.reset();
  }

  void watch_deadline(const std::string& id, slot& s) {
    auto w = Entity::wake_at(s.state);
    if (w == s.wake_at)
      return;
    s.wake_at = w;
    if (w == 0)
      return;
    deadlines.emplace(w, id);
    arm_tick();
  }

  /// Makes sure one tick is pending for the earliest deadline. A tick carries the time it was set
  /// for; one that arrives after an earlier tick replaced it is ignored.
  void arm_tick() {
    if (in_tick)
      return;
    // Entries are dropped lazily: skip those of entities whose deadline moved or went away (an
    // order done in milliseconds leaves one behind), so that no timer is set for nothing.
    while (!deadlines.empty()) {
      auto it = slots.find(deadlines.top().second);
      if (it != slots.end() && it->second.wake_at == deadlines.top().first)
        break;
      deadlines.pop();
    }
    if (deadlines.empty())
      return;
    auto w = deadlines.top().first;
    if (tick_at != 0 && tick_at <= w)
      return;
    tick_at = w;
    auto delay = std::max<int64_t>(0, w - now());
    self->delayed_send(self, std::chrono::milliseconds(delay), tick_atom::value, w);
  }

  /// Keeps the state the write in flight holds before a command or timer may change it (once
  /// per write: on_durable needs it when that write commits). Copying only then spares the copy
  /// for the common case, no change while a write is on its way.
  void before_change(slot& s) {
    if (s.busy && s.busy->in_flight && !s.busy->written)
      s.busy->written = s.state;
  }

  void mark_dirty(const std::string& id, slot& s) {
    if (!s.busy)
      s.busy = std::make_unique<busy_state>(), s.busy->loading = false;
    if (!s.busy->dirty) {
      s.busy->dirty = true;
      if (!s.busy->in_flight) {
        to_save.push_back(id);
        schedule_flush();
      }
    }
  }

  /// Runs one command on a loaded entity and answers through `rp`.
  template <class Msg, class Reply>
  void run(const std::string& id, Msg& msg, caf::typed_response_promise<Reply> rp) {
    auto it = slots.find(id);
    if (it == slots.end()) {
      rp.deliver(make_error(errc::unavailable, id, "entity was dropped"));
      return;
    }
    auto& s = it->second;
    env e{id, now()};
    before_change(s);
    bool failed = false;
    caf::expected<Reply> res = [&]() -> caf::expected<Reply> {
      try {
        return Entity::handle(s.state, msg, e, es);
      } catch (std::exception& ex) {
        failed = true;
        log::error(*log, msg.ctx.request_id, "{} {} failed: {}", Entity::entity_type, id,
                   ex.what());
        return make_error(errc::internal, id, "entity failed");
      }
    }();
    if (failed) {
      // Its state may be half-changed: drop it; the next message reloads the last snapshot.
      auto err = res.error();
      rp.deliver(err);
      auto unknown = make_error(errc::timeout, id, "the entity failed while its write was pending");
      drop(id, err, &unknown);
      return;
    }
    if (s.unverified && !e.changed && !(s.busy && (s.busy->dirty || s.busy->in_flight))) {
      // Nothing to write, so nothing proves it new: load it after all and run this again.
      slots.erase(it);
      active->add(-1);
      acquire(id).busy->queued.emplace_back(run_once_loaded<Msg, Reply>(id, msg, rp));
      return;
    }
    if (!res && res.error().category() == caf::atom("bookstore")
        && res.error().code() == static_cast<uint8_t>(errc::not_settled)) {
      park<Msg, Reply>(id, s, e, msg, rp);
      return;
    }
    auto answer = [rp, res](const caf::error* err) mutable {
      if (err)
        rp.deliver(*err);
      else if (res)
        rp.deliver(std::move(*res));
      else
        rp.deliver(res.error());
    };
    if (e.changed) {
      mark_dirty(id, s);
      s.busy->next_waiters.emplace_back(std::move(answer));
      watch_deadline(id, s);
    } else if (s.busy && s.busy->dirty) {
      // It saw changes that are not written yet: answer once the next write commits.
      s.busy->next_waiters.emplace_back(std::move(answer));
    } else if (s.busy && s.busy->in_flight) {
      // It saw exactly what the write in flight holds: answer once that write commits.
      s.busy->in_flight_waiters.emplace_back(std::move(answer));
    } else {
      answer(nullptr);
    }
  }

  /// Runs `msg` once the entity's load ends (or answers the error that ended it).
  template <class Msg, class Reply>
  waiter run_once_loaded(const std::string& id, const Msg& msg,
                         caf::typed_response_promise<Reply> rp) {
    return [this, id, msg = Msg{msg}, rp](const caf::error* err) mutable {
      if (err)
        rp.deliver(*err);
      else
        run<Msg, Reply>(id, msg, rp);
    };
  }

  /// Keeps `msg` to run again after the entity's next committed write (see "Parked commands").
  template <class Msg, class Reply>
  void park(const std::string& id, slot& s, entity::env& e, Msg& msg,
            caf::typed_response_promise<Reply> rp) {
    if (e.changed) {
      mark_dirty(id, s);
      watch_deadline(id, s);
    }
    if (!s.busy)
      s.busy = std::make_unique<busy_state>(), s.busy->loading = false;
    if (s.busy->parked.size() >= max_parked) {
      rp.deliver(make_error(errc::unavailable, id, "too many requests wait on this entity"));
      return;
    }
    auto deadline = msg.ctx.deadline_ms > 0 ? msg.ctx.deadline_ms : now() + 30000;
    // The command moves into its parked entry (a rerun that parks again moves it on): it is
    // not copied at every write it waits for.
    s.busy->parked.push_back(parked_command{
      deadline, [this, id, msg = std::move(msg), rp]() mutable { run<Msg, Reply>(id, msg, rp); },
      [rp](const caf::error& err) mutable { rp.deliver(err); }});
  }

  /// Fails the parked commands of `s` whose deadline passed.
  void expire_parked(slot& s, int64_t t) {
    if (!s.busy || s.busy->parked.empty())
      return;
    auto& p = s.busy->parked;
    auto late = std::stable_partition(p.begin(), p.end(),
                                      [t](const parked_command& c) { return c.deadline > t; });
    std::vector<parked_command> gone(std::make_move_iterator(late),
                                     std::make_move_iterator(p.end()));
    p.erase(late, p.end());
    auto err = make_error(errc::timeout, "", "the outcome was not reached within the deadline");
    for (auto& c : gone) c.fail(err);
  }

  template <class Msg, class Reply>
  caf::result<Reply> on_command(Msg& msg) {
    const std::string& id = Entity::id_of(msg);
    auto rp = self->template make_response_promise<Reply>();
    bool unverified = false;
    if constexpr (detail::has_assume_new<Entity, Msg>::value)
      unverified = Entity::assume_new(msg);
    auto& s = acquire(id, unverified);
    if (s.busy && s.busy->loading) {
      s.busy->queued.emplace_back(run_once_loaded<Msg, Reply>(id, msg, rp));
    } else {
      run<Msg, Reply>(id, msg, rp);
    }
    return rp;
  }

  void on_wake(const std::string& id) {
    auto& s = acquire(id);
    if (!s.busy || !s.busy->loading)
      fire_due(id, s);
    // else: fire_due runs once loaded (watch_deadline after the load schedules a tick).
  }

  void fire_due(const std::string& id, slot& s) {
    auto w = Entity::wake_at(s.state);
    auto t = now();
    if (w == 0 || w > t)
      return;
    before_change(s);
    env e{id, t};
    Entity::on_wake(s.state, e, es);
    if (e.changed)
      mark_dirty(id, s);
    s.wake_at = 0; // force re-registration
    watch_deadline(id, s);
  }

  void on_tick(int64_t set_for) {
    if (set_for != tick_at)
      return; // replaced by an earlier tick
    auto t = now();
    tick_at = 0;
    in_tick = true;
    while (!deadlines.empty() && deadlines.top().first <= t) {
      auto [when, id] = deadlines.top();
      deadlines.pop();
      auto it = slots.find(id);
      // Entries are dropped lazily: only the entity's current deadline counts.
      if (it != slots.end() && it->second.wake_at == when
          && !(it->second.busy && it->second.busy->loading))
        fire_due(id, it->second);
    }
    in_tick = false;
    arm_tick();
  }

  void on_sweep() {
    auto t = now();
    auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(rt.passivate_after).count();
    for (auto it = slots.begin(); it != slots.end();) {
      auto& s = it->second;
      expire_parked(s, t);
      settle(s);
      // An entity with a deadline stays: its timer lives here (see "Timers").
      if (!s.busy && t - s.last_used >= idle && s.wake_at == 0) {
        it = slots.erase(it);
        active->add(-1);
      } else {
        ++it;
      }
    }
    if (slots.size() < slots.bucket_count() / 4)
      slots.rehash(0);
    for (auto& id : lost_wakes)
      if (slots.count(id) == 0)
        on_wake(id);
  }

  void on_flush() {
    flush_scheduled = false;
    flush_wanted = false;
    if (!to_load.empty())
      load(std::exchange(to_load, {}));
    if (!to_save.empty())
      save(std::exchange(to_save, {}));
  }

  uint64_t open_call(std::vector<std::string> ids) {
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(rt.store_timeout);
    auto id = ++last_call;
    calls.emplace(id, store_call{now() + timeout.count(), std::move(ids)});
    if (!store_check_armed) {
      store_check_armed = true;
      self->delayed_send(self, rt.store_timeout, store_check_atom::value);
    }
    return id;
  }

  /// The ids of a call still open, which it closes; nullopt if it timed out already.
  std::optional<std::vector<std::string>> close_call(uint64_t id) {
    auto it = calls.find(id);
    if (it == calls.end())
      return std::nullopt;
    auto ids = std::move(it->second.ids);
    calls.erase(it);
    return ids;
  }

  void on_store_check() {
    store_check_armed = false;
    auto t = now();
    while (!calls.empty() && calls.begin()->second.deadline <= t) {
      auto call_id = calls.begin()->first;
      auto ids = std::move(calls.begin()->second.ids);
      calls.erase(calls.begin());
      log::warn(*log, "-", "the snapshot store did not answer for {} {} entities in time",
                ids.size(), Entity::entity_type);
      auto e = make_error(errc::timeout, "", "the snapshot store did not answer in time");
      for (auto& id : ids) drop_waiting(id, call_id, e);
    }
    if (!calls.empty()) {
      store_check_armed = true;
      auto wait = std::max<int64_t>(1, calls.begin()->second.deadline - t);
      self->delayed_send(self, std::chrono::milliseconds(wait), store_check_atom::value);
    }
  }

  void load(std::vector<std::string> ids) {
    auto target = store.get();
    if (!target) {
      auto e = make_error(errc::unavailable, "", "snapshot store is restarting");
      for (auto& id : ids) drop(id, e);
      return;
    }
    load_snapshots req{Entity::entity_type, ids};
    auto call = open_call(ids);
    for (auto& id : ids)
      if (auto it = slots.find(id); it != slots.end() && it->second.busy)
        it->second.busy->call = call;
    self->request(target, caf::infinite, std::move(req))
      .then(
        [this, call](snapshot_batch& batch) {
          auto ids = close_call(call);
          if (!ids)
            return;
          for (size_t i = 0; i < ids->size(); ++i)
            loaded((*ids)[i], call, i < batch.items.size() ? &batch.items[i] : nullptr);
          end_of_message();
        },
        [this, call](caf::error& err) {
          auto ids = close_call(call);
          if (!ids)
            return;
          log::warn(*log, "-", "loading {} {} entities failed: {}", ids->size(),
                    Entity::entity_type, to_string(err));
          auto e = make_error(errc::storage_unavailable, "", "loading state failed");
          for (auto& id : *ids) drop_waiting(id, call, e);
          end_of_message();
        });
  }

  void loaded(const std::string& id, uint64_t call, snapshot* snap) {
    auto it = slots.find(id);
    // Only the load this activation waits for: an entity dropped and activated again meanwhile
    // waits for a newer one.
    if (it == slots.end() || !it->second.busy || !it->second.busy->loading
        || it->second.busy->call != call)
      return;
    auto& s = it->second;
    if (snap == nullptr || snap->entity_id != id) {
      drop(id, make_error(errc::internal, id, "snapshot store answered out of order"));
      return;
    }
    if (snap->version > 0) {
      try {
        s.state = decode<typename Entity::state_type>(snap->state);
      } catch (std::exception& ex) {
        log::error(*log, "-", "{} {} has an unreadable snapshot v{}: {}", Entity::entity_type, id,
                   snap->version, ex.what());
        drop(id, make_error(errc::internal, id, "unreadable snapshot"));
        return;
      }
    }
    s.version = snap->version;
    s.busy->loading = false;
    lost_wakes.erase(id);
    Entity::on_durable(self, id, s.state, now(), es);
    auto queued = std::move(s.busy->queued);
    s.busy->queued.clear();
    // Expire what fell due while the entity was away before any command sees the state.
    fire_due(id, s);
    watch_deadline(id, s);
    // A row that asks for a wake its state no longer has (written by a version whose wake_at
    // counted more) is rewritten once: else every due lookup would load it again, and such rows
    // could crowd out entities that are due.
    if (snap->version > 0 && snap->wake_at != 0 && Entity::wake_at(s.state) == 0)
      mark_dirty(id, s);
    // A command may drop the entity; the ones after it then get an error from run().
    for (auto& q : queued) q(nullptr);
    if (auto again = slots.find(id); again != slots.end())
      settle(again->second);
  }

  void save(std::vector<std::string> ids) {
    save_snapshots req;
    std::vector<std::string> sent;
    req.writes.reserve(ids.size());
    for (auto& id : ids) {
      auto it = slots.find(id);
      if (it == slots.end() || !it->second.busy || !it->second.busy->dirty
          || it->second.busy->in_flight)
        continue;
      auto& s = it->second;
      auto& b = *s.busy;
      b.dirty = false;
      b.in_flight = true;
      b.in_flight_waiters = std::move(b.next_waiters);
      b.next_waiters.clear();
      b.written.reset();
      req.writes.push_back(snapshot{Entity::entity_type, id, s.version + 1, encode(s.state),
                                    Entity::schema_version, Entity::wake_at(s.state), {}});
      if constexpr (detail::has_listing<Entity>::value)
        req.writes.back().listing = Entity::listing(s.state);
      sent.push_back(id);
    }
    if (sent.empty())
      return;
    auto target = store.get();
    if (!target) {
      auto e = make_error(errc::unavailable, "", "snapshot store is restarting");
      for (auto& id : sent) drop(id, e);
      return;
    }
    auto call = open_call(sent);
    for (auto& id : sent) slots.find(id)->second.busy->call = call;
    if (!writer)
      find_writer(target);
    auto to = writer ? writer : caf::actor_cast<snapshot_writer_actor>(target);
    self->request(to, caf::infinite, std::move(req))
      .then(
        [this, call](save_result& res) {
          auto ids = close_call(call);
          if (!ids)
            return;
          for (size_t i = 0; i < ids->size(); ++i)
            saved((*ids)[i], call, i < res.committed.size() ? res.committed[i] : uint8_t{save_failed});
          end_of_message();
        },
        [this, call](caf::error& err) {
          auto ids = close_call(call);
          if (!ids)
            return;
          log::warn(*log, "-", "saving {} {} entities failed: {}", ids->size(),
                    Entity::entity_type, to_string(err));
          // An error says nothing about whether the write committed (it may come from anywhere
          // on the way, a writer that stopped included): in doubt, not failed.
          for (auto& id : *ids) saved(id, call, save_in_doubt);
          end_of_message();
        });
  }

  /// Asks the store for a writer to send writes to directly (see `writer`).
  void find_writer(const snapshot_store_actor& target) {
    if (asking_writer)
      return;
    asking_writer = true;
    self->request(target, caf::infinite, writer_atom::value, static_cast<uint64_t>(self->id()))
      .then(
        [this](snapshot_writer_actor& w) {
          asking_writer = false;
          if (!w)
            return;
          writer = w;
          self->monitor(w); // its down_msg sends writes through the store again
        },
        [this](caf::error&) { asking_writer = false; });
  }

  void saved(const std::string& id, uint64_t call, uint8_t status) {
    auto it = slots.find(id);
    if (it == slots.end() || !it->second.busy || !it->second.busy->in_flight
        || it->second.busy->call != call)
      return;
    switch (status) {
      case save_committed:
        break;
      case save_conflict:
        if (it->second.unverified)
          return reactivate(id); // it was not new after all
        log::warn(*log, "-", "{} {} lost a version race; dropping this activation",
                  Entity::entity_type, id);
        drop(id, make_error(errc::version_conflict, id, "another activation wrote first"));
        return;
      case save_in_doubt: {
        if (it->second.unverified)
          return reactivate(id); // committed or not, the load shows what is durable
        // Nobody knows whether it committed: say so (504), and reload what is durable.
        auto doubt = make_error(errc::timeout, id, "the write may or may not have committed");
        drop(id, doubt);
        return;
      }
      default:
        drop(id, make_error(errc::storage_unavailable, id, "the write failed"));
        return;
    }
    auto& s = it->second;
    auto& b = *s.busy;
    s.version += 1;
    s.unverified = false;
    b.in_flight = false;
    // What is durable now is the state as of this write; later changes wait for the next one.
    Entity::on_durable(self, id, b.written ? *b.written : s.state, now(), es);
    b.written.reset();
    auto done = std::move(b.in_flight_waiters);
    b.in_flight_waiters.clear();
    auto parked = std::move(b.parked);
    b.parked.clear();
    if (b.dirty) {
      to_save.push_back(id);
      schedule_flush();
    }
    settle(s);
    for (auto& w : done) w(nullptr);
    // Parked commands look again at the state that is durable now (they may park again).
    auto t = now();
    auto late = make_error(errc::timeout, id, "the outcome was not reached within the deadline");
    for (auto& p : parked) {
      if (p.deadline <= t)
        p.fail(late);
      else
        p.rerun();
    }
  }
};

namespace detail {

template <class Entity, class Msg, class Reply>
auto command_handler(typename shard_actor<Entity>::template stateful_pointer<shard_state<Entity>>
                       self) {
  return [self](Msg& msg) -> caf::result<Reply> {
    auto res = self->state.template on_command<Msg, Reply>(msg);
    self->state.end_of_message();
    return res;
  };
}

template <class Entity, class... Msgs, class... Replies>
typename shard_actor<Entity>::behavior_type
shard_behavior(typename shard_actor<Entity>::template stateful_pointer<shard_state<Entity>> self,
               command_list<command<Msgs, Replies>...>) {
  return {
    command_handler<Entity, Msgs, Replies>(self)...,
    [self](wake_entity& w) {
      self->state.on_wake(w.entity_id);
      self->state.end_of_message();
    },
    [self](flush_atom) { self->state.on_flush(); },
    [self](tick_atom, int64_t set_for) {
      self->state.on_tick(set_for);
      self->state.end_of_message();
    },
    [self](store_check_atom) {
      self->state.on_store_check();
      self->state.end_of_message();
    },
    [self](sweep_atom) {
      self->state.on_sweep();
      self->state.end_of_message();
      self->delayed_send(self, self->state.rt.passivate_after / 4, sweep_atom::value);
    },
  };
}

} // namespace detail

/// The behavior of one shard actor of entity type `Entity`.
template <class Entity>
typename shard_actor<Entity>::behavior_type
entity_shard(typename shard_actor<Entity>::template stateful_pointer<shard_state<Entity>> self,
             service_ref<snapshot_store_actor> store, runtime_settings rt,
             typename Entity::settings es) {
  auto& st = self->state;
  st.self = self;
  st.store = std::move(store);
  st.rt = std::move(rt);
  st.es = std::move(es);
  st.log = log::get(Entity::entity_type);
  st.active = &metrics::global().get_gauge("bookstore_entities_active",
                                           "Entities in memory, by type",
                                           {{"type", Entity::entity_type}});
  st.failures = &metrics::global().get_counter("bookstore_entity_drops_total",
                                               "Entities dropped after a failure, by type",
                                               {{"type", Entity::entity_type}});
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.writer && msg.source == st.writer.address())
      st.writer = snapshot_writer_actor{};
  });
  self->delayed_send(self, st.rt.passivate_after / 4, sweep_atom::value);
  return detail::shard_behavior<Entity>(self, typename Entity::commands{});
}

} // namespace bookstore::entity
