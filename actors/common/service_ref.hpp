#pragma once

// A reference to a long-lived service that survives its restarts: it reads the service's current
// handle from CAF's registry (where its supervisor puts it) on every use. Tests pin a handle.

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

namespace bookstore {

template <class Handle>
class service_ref {
public:
  service_ref() = default;

  /// Resolved by name on every use.
  service_ref(caf::actor_system& sys, caf::atom_value name) : sys_(&sys), name_(name) {}

  /// Always this handle (tests, benchmarks).
  service_ref(Handle fixed) : fixed_(std::move(fixed)) {}

  /// The current handle; invalid while the service is (re)starting.
  Handle get() const {
    if (sys_ == nullptr)
      return fixed_;
    return sys_->registry().template get<Handle>(name_);
  }

private:
  caf::actor_system* sys_ = nullptr;
  caf::atom_value name_ = caf::atom("");
  Handle fixed_;
};

} // namespace bookstore
