#pragma once

// Messages every entity region understands, whatever the entity type.

#include <caf/meta/type_name.hpp>

#include <string>

namespace bookstore {

/// Activates the entity (if it is not) and runs its due timers. Sent by the region's waker for
/// entities whose snapshot says they have work due (e.g. a reservation that expires).
struct wake_entity {
  std::string entity_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wake_entity& x) {
  return f(caf::meta::type_name("wake_entity"), x.entity_id);
}

} // namespace bookstore
