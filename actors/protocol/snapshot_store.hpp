#pragma once

// The snapshot store: the durable state of every entity, one row per (type, id) in
// `entity_snapshots`. Writes carry the next version and succeed only if the stored version is the
// one before (optimistic concurrency); writers group-commit whatever arrives while they commit.

#include "actors/protocol/order_index.hpp"

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

/// One entity's state at one version. `state` holds msgpack bytes (map form).
struct snapshot {
  std::string entity_type;
  std::string entity_id;
  int64_t version = 0; ///< 0 = no snapshot exists
  std::string state;
  int32_t schema_version = 0;
  int64_t wake_at = 0; ///< Unix ms when the entity has work due (0 = none)
  /// Orders only: the order's row of the order index, written in the same statement as the
  /// snapshot and only if the snapshot is (empty status: none). Never filled by loads.
  order_listing listing;
};

/// Loads the latest snapshots of some entities of one type, in the order asked; an entity without
/// one comes back with version 0. errc::storage_unavailable.
struct load_snapshots {
  std::string entity_type;
  std::vector<std::string> entity_ids;
};

struct snapshot_batch {
  std::vector<snapshot> items;
};

/// Writes snapshots, each at `version` over `version - 1`. One transaction for the whole batch.
/// errc::storage_unavailable when nothing was written.
struct save_snapshots {
  std::vector<snapshot> writes;
};

/// What became of one write of a save_snapshots.
enum save_status : uint8_t {
  save_conflict = 0,  ///< another writer got there first: the entity must stop
  save_committed = 1, ///< durable
  save_failed = 2,    ///< not written (PostgreSQL failed before the commit)
  save_in_doubt = 3,  ///< the connection broke while the save ran: it may or may not be durable
};

/// Per write of a save_snapshots, in order: a save_status.
struct save_result {
  std::vector<uint8_t> committed;
};

/// Ids of entities of a type whose `wake_at` is at or before `before_ms`, at most `limit`. The
/// store keeps wake_at rounded down to the minute, so entities due up to a minute later come
/// too (a wake that finds nothing due only sets the entity's timer).
struct find_due {
  std::string entity_type;
  int64_t before_ms = 0;
  int32_t limit = 1000;
};

struct entity_ids {
  std::vector<std::string> ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot& x) {
  return f(caf::meta::type_name("snapshot"), x.entity_type, x.entity_id, x.version, x.state,
           x.schema_version, x.wake_at, x.listing);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, load_snapshots& x) {
  return f(caf::meta::type_name("load_snapshots"), x.entity_type, x.entity_ids);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_batch& x) {
  return f(caf::meta::type_name("snapshot_batch"), x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, save_snapshots& x) {
  return f(caf::meta::type_name("save_snapshots"), x.writes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, save_result& x) {
  return f(caf::meta::type_name("save_result"), x.committed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_due& x) {
  return f(caf::meta::type_name("find_due"), x.entity_type, x.before_ms, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_ids& x) {
  return f(caf::meta::type_name("entity_ids"), x.ids);
}

/// What a writer of the store speaks: writes only.
using snapshot_writer_actor = caf::typed_actor<caf::replies_to<save_snapshots>::with<save_result>>;

/// With a key (any number): the writer that a caller with that key may send its writes to
/// directly, one hop fewer than through the store. The same key gets the same writer while it
/// lives; callers watch it (a monitor) and ask again once it is gone. Every node has its own
/// store, asked only by its own shards, so the handle never crosses nodes (it is not announced).
using writer_atom = caf::atom_constant<caf::atom("swriter")>;

using snapshot_store_actor
  = caf::typed_actor<caf::replies_to<load_snapshots>::with<snapshot_batch>,
                     caf::replies_to<save_snapshots>::with<save_result>,
                     caf::replies_to<find_due>::with<entity_ids>,
                     caf::replies_to<writer_atom, uint64_t>::with<snapshot_writer_actor>>;

} // namespace bookstore
