#pragma once

// Light declarations an entity type needs without pulling in the runtime (entity_shard.hpp).

#include <caf/timespan.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace bookstore::entity {

template <class Msg, class Reply>
struct command {};

template <class... Commands>
struct command_list {};

/// How the runtime treats every entity of a type.
struct runtime_settings {
  size_t shards = 1024;
  caf::timespan passivate_after = std::chrono::minutes(5);
  caf::timespan wake_interval = std::chrono::minutes(5);
  caf::timespan store_timeout = std::chrono::seconds(10);
  std::function<int64_t()> clock; ///< Unix ms; empty = the wall clock
};

/// What a handler sees besides its state and message.
struct env {
  const std::string& id;
  int64_t now_ms;
  bool changed = false; ///< set by the handler when it changed the state
};

} // namespace bookstore::entity
