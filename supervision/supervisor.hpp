#pragma once

// One-for-one supervisors. A supervisor starts its children in order (each linked to it, so they
// die with it), puts each one in CAF's registry under its name, and restarts a child that fails,
// at most `max_restarts` times within `window`; past that it fails itself, and its own supervisor
// decides. A child that stops normally is not restarted. Entities are not children: their runtime
// drops a failed entity and reloads it from its snapshot on the next message.

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <functional>
#include <string>
#include <vector>

namespace bookstore {

struct child_spec {
  std::string label;
  /// Registry name (services others look up); caf::atom("") for none.
  caf::atom_value name = caf::atom("");
  /// Spawns the child linked to the supervisor passed in; returns its handle.
  std::function<caf::actor(caf::event_based_actor* supervisor)> start;
};

struct supervisor_spec {
  std::string label;
  size_t max_restarts = 5;
  caf::timespan window = std::chrono::seconds(10);
  std::vector<child_spec> children;
};

/// A top-level supervisor (the root of a node's tree).
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_spec spec);

/// A supervisor as the child of another: use inside a child_spec's start.
caf::actor spawn_child_supervisor(caf::event_based_actor* parent, supervisor_spec spec);

} // namespace bookstore
