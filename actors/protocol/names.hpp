#pragma once

// Names under which the supervision tree puts each service into CAF's registry. Callers look a
// handle up on use, so a restarted service is found under its new handle.

#include <caf/atom.hpp>

namespace bookstore::names {

inline constexpr caf::atom_value catalog = caf::atom("catalog");
inline constexpr caf::atom_value inventory = caf::atom("inventory");
inline constexpr caf::atom_value snapshots = caf::atom("snapshots");
inline constexpr caf::atom_value books = caf::atom("books");
inline constexpr caf::atom_value health = caf::atom("health");
inline constexpr caf::atom_value sessions = caf::atom("sessions");
inline constexpr caf::atom_value accounts = caf::atom("accounts");
inline constexpr caf::atom_value orders = caf::atom("orders");
inline constexpr caf::atom_value payments = caf::atom("payments");
inline constexpr caf::atom_value provider = caf::atom("provider");
inline constexpr caf::atom_value checkout = caf::atom("checkout");
inline constexpr caf::atom_value order_index = caf::atom("orderindex");
inline constexpr caf::atom_value reconciler = caf::atom("reconciler");

} // namespace bookstore::names
