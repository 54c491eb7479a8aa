#pragma once

// The snapshot store of this node: a front actor with a small pool of writers and readers, each
// a detached actor with its own PostgreSQL connection. Writers group-commit: everything that
// arrives while one transaction commits goes into the next, so throughput grows with load while
// latency stays about one commit. Readers batch loads the same way.

#include "actors/protocol/snapshot_store.hpp"

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <string>

namespace bookstore {

struct snapshot_store_settings {
  std::string dsn;
  size_t writers = 2;
  size_t readers = 2;
  size_t max_batch = 5000; ///< rows per transaction; bigger batches are split
  bool detached = true;    ///< false in tests: workers run on the (deterministic) scheduler
};

/// A linked child of `parent` that restarts its workers if they fail.
snapshot_store_actor spawn_snapshot_store(caf::event_based_actor* parent,
                                          snapshot_store_settings settings);

snapshot_store_actor make_snapshot_store(caf::actor_system& sys,
                                         snapshot_store_settings settings);

} // namespace bookstore
