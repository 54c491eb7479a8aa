#pragma once

// The node's view of its dependencies for /readyz: a detached actor with its own PostgreSQL
// connection and Redis context, so a hung dependency never blocks the scheduler.

#include "actors/protocol/health.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace bookstore {

struct health_settings {
  std::string dsn;
  std::string redis_host;
  uint16_t redis_port = 6379;
  std::chrono::milliseconds redis_timeout{500};
};

health_actor spawn_health_checker(caf::event_based_actor* parent, health_settings settings);

} // namespace bookstore
