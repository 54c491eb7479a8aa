#pragma once

// Readiness of the node's dependencies, for /readyz.

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace bookstore {

/// Asks for a fresh check of PostgreSQL and Redis.
struct probe_health {};

/// Empty strings mean "ok"; otherwise the reason.
struct health_report {
  std::string postgres;
  std::string redis;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, probe_health&) {
  return f(caf::meta::type_name("probe_health"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_report& x) {
  return f(caf::meta::type_name("health_report"), x.postgres, x.redis);
}

using health_actor = caf::typed_actor<caf::replies_to<probe_health>::with<health_report>>;

} // namespace bookstore
