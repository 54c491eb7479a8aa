#pragma once

namespace caf {
class actor_system_config;
} // namespace caf

namespace bookstore {

/// Announces every message type of actors/protocol under one name each, the same on every node
/// (an unannounced type arrives empty on the other side; see notes/caf-0.17.md §1).
void register_types(caf::actor_system_config& cfg);

} // namespace bookstore
