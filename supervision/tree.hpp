#pragma once

// The supervision tree of a node:
//   root ─┬─ persistence ─┬─ snapshots (snapshot store: writers + readers)
//         │               ├─ books     (book store)
//         │               └─ health    (PostgreSQL/Redis checks)
//         ├─ regions ─────┬─ inventory (inventory region: shards of inventory items)
//         │               └─ sessions  (session region: shards of user sessions)
//         └─ services ────┬─ catalog
//                         └─ accounts  (users, bcrypt workers, audit log, purge job)
// Every supervisor is one-for-one; services find each other through the registry, so a restarted
// child is reached under its new handle.

#include "config/node_config.hpp"
#include "supervision/supervisor.hpp"

namespace bookstore {

supervisor_spec node_tree(caf::actor_system& sys, const node_config& cfg);

} // namespace bookstore
