#pragma once

// An in-memory snapshot_store_actor for deterministic tests. It keeps snapshots with the real
// store's version rule, and parks writes until the test says how they end (commit them, answer a
// conflict, fail the batch, or fail to answer it), so a test can see what happens before and
// after a commit.

#include "actors/protocol/errc.hpp"
#include "actors/protocol/snapshot_store.hpp"

#include <caf/all.hpp>

#include <map>
#include <memory>

namespace bookstore::fakes {

using commit_atom = caf::atom_constant<caf::atom("fcommit")>;
using conflict_atom = caf::atom_constant<caf::atom("fconflict")>;
using fail_atom = caf::atom_constant<caf::atom("ffail")>;
using bounce_atom = caf::atom_constant<caf::atom("fbounce")>;

struct fake_store_state {
  struct parked {
    save_snapshots req;
    caf::typed_response_promise<save_result> rp;
  };
  std::map<std::pair<std::string, std::string>, snapshot> rows;
  std::vector<parked> pending;
  bool down = false;       ///< loads fail with storage_unavailable, as with PostgreSQL down
  size_t loads = 0;        ///< load requests served (or failed while down)
  size_t loaded_ids = 0;   ///< ids asked for in them
  size_t saves = 0;        ///< save requests received
  size_t rows_written = 0; ///< snapshots committed
  size_t due_lookups = 0;  ///< find_due requests served
  snapshot_writer_actor writer; ///< named by writer_atom when set; else the store names itself
  static inline const char* name = "fake_snapshot_store";
};

using fake_store_actor = snapshot_store_actor::extend<caf::reacts_to<commit_atom>,
                                                      caf::reacts_to<conflict_atom>,
                                                      caf::reacts_to<fail_atom>,
                                                      caf::reacts_to<bounce_atom>>;

inline fake_store_actor::behavior_type
fake_snapshot_store(fake_store_actor::stateful_pointer<fake_store_state> self) {
  return {
    [self](load_snapshots& req) -> caf::result<snapshot_batch> {
      auto& st = self->state;
      ++st.loads;
      if (st.down)
        return make_error(errc::storage_unavailable, "", "database failure");
      st.loaded_ids += req.entity_ids.size();
      snapshot_batch out;
      for (auto& id : req.entity_ids) {
        auto it = st.rows.find({req.entity_type, id});
        if (it != st.rows.end())
          out.items.push_back(it->second);
        else
          out.items.push_back(snapshot{req.entity_type, id, 0, {}, 0, 0, {}});
      }
      return out;
    },
    // Its own writer unless a test set another: writes sent there directly park here too.
    [self](writer_atom, uint64_t) {
      auto& w = self->state.writer;
      return w ? w : caf::actor_cast<snapshot_writer_actor>(self);
    },
    [self](save_snapshots& req) -> caf::result<save_result> {
      ++self->state.saves;
      auto rp = self->make_response_promise<save_result>();
      self->state.pending.push_back({std::move(req), rp});
      return rp;
    },
    [self](find_due& req) {
      ++self->state.due_lookups;
      entity_ids out;
      for (auto& [key, snap] : self->state.rows)
        if (key.first == req.entity_type && snap.wake_at != 0 && snap.wake_at <= req.before_ms)
          out.ids.push_back(key.second);
      return out;
    },
    // Commits every parked write that passes the version rule.
    [self](commit_atom) {
      auto& st = self->state;
      for (auto& p : std::exchange(st.pending, {})) {
        save_result res;
        for (auto& w : p.req.writes) {
          auto& row = st.rows[{w.entity_type, w.entity_id}];
          bool ok = row.version == w.version - 1;
          if (ok) {
            // As the real store: a write without an index row leaves the one before.
            auto listing = std::move(row.listing);
            row = w;
            if (w.listing.status.empty())
              row.listing = std::move(listing);
            ++st.rows_written;
          }
          res.committed.push_back(ok ? 1 : 0);
        }
        p.rp.deliver(std::move(res));
      }
    },
    // Answers every parked write with a version conflict.
    [self](conflict_atom) {
      for (auto& p : std::exchange(self->state.pending, {}))
        p.rp.deliver(save_result{std::vector<uint8_t>(p.req.writes.size(), 0)});
    },
    // Fails every parked batch as if PostgreSQL were down (nothing written).
    [self](fail_atom) {
      for (auto& p : std::exchange(self->state.pending, {}))
        p.rp.deliver(save_result{std::vector<uint8_t>(p.req.writes.size(), save_failed)});
    },
    // Answers every parked batch with an error instead of a result, as when the store's worker
    // stopped with the batch (committed or not, nobody knows).
    [self](bounce_atom) {
      for (auto& p : std::exchange(self->state.pending, {}))
        p.rp.deliver(caf::make_error(caf::sec::request_receiver_down));
    },
  };
}

/// A writer a test can have the store name (fake_store_state::writer): it hands each write on
/// to the store and counts it, so the test sees which writes came to it directly.
inline snapshot_writer_actor::behavior_type
forwarding_writer(snapshot_writer_actor::pointer self, snapshot_store_actor store,
                  std::shared_ptr<size_t> forwarded) {
  return {
    [self, store, forwarded](save_snapshots& req) -> caf::delegated<save_result> {
      ++*forwarded;
      return self->delegate(store, std::move(req));
    },
  };
}

} // namespace bookstore::fakes
