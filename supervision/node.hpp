#pragma once

// One cluster node: migrations, the actor system and its supervision tree, the HTTP gateway.
// Runs until SIGINT/SIGTERM (exit 0) or until the root supervisor gives up (exit 1).

#include "config/node_config.hpp"

namespace bookstore {

/// Call first thing in main: blocks SIGINT/SIGTERM in every thread started later, so that
/// run_node alone waits for them.
void block_stop_signals();

int run_node(node_config& cfg);

} // namespace bookstore
