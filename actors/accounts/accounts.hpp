#pragma once

// Starts the accounts service: a front actor that hands each request to a worker on its own thread
// with its own PostgreSQL connection: bcrypt work (~0.25 s at cost 12; it must never hold a
// scheduler thread) to one of `workers` hashing workers at the lowest CPU priority, everything
// else to one of two light workers (by user id). The front also runs the purge job and creates the bootstrap admin.

#include "actors/common/service_ref.hpp"
#include "actors/protocol/accounts.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/protocol/session.hpp"

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <string>

namespace bookstore {

struct accounts_settings {
  std::string dsn;
  size_t workers = 2; ///< hashing workers
  unsigned bcrypt_cost = 12;
  std::string mfa_key; ///< 32 bytes: AES-256-GCM key of TOTP secrets
  std::string issuer = "Bookstore";
  int64_t refresh_ttl_ms = 30LL * 24 * 3600 * 1000;
  int64_t deletion_grace_ms = 30LL * 24 * 3600 * 1000;
  caf::timespan purge_interval = std::chrono::hours(1);
  std::string avatar_dir;
  std::string bootstrap_email; ///< empty = no bootstrap admin
  std::string bootstrap_password;
  service_ref<session_actor> sessions;
  /// Orders of a purged account are anonymised through it (may be empty: then they are not).
  service_ref<order_actor> orders;
  caf::timespan session_timeout = std::chrono::seconds(5);
  bool detached = true; ///< workers on their own threads (tests run them on the test scheduler)
  std::function<int64_t()> clock; ///< Unix ms; empty = the wall clock
};

/// As a child of `parent` (linked).
accounts_actor spawn_accounts(caf::event_based_actor* parent, accounts_settings settings);

accounts_actor make_accounts(caf::actor_system& sys, accounts_settings settings);

} // namespace bookstore
