#pragma once

// One worker of the accounts service (actors/accounts/accounts.hpp): runs on its own thread with
// its own PostgreSQL connection, so bcrypt and SQL never hold a scheduler thread.

#include "actors/accounts/accounts.hpp"

#include <caf/atom.hpp>
#include <caf/fwd.hpp>

namespace bookstore {

/// Runs the purge of accounts whose grace period ended.
using purge_atom = caf::atom_constant<caf::atom("purge")>;
/// Writes the audit entries that queued up since the last write, in one transaction.
using audit_flush_atom = caf::atom_constant<caf::atom("auditflush")>;

using account_worker_actor
  = accounts_actor::extend<caf::reacts_to<purge_atom>, caf::reacts_to<audit_flush_atom>>;

/// A worker linked to `parent`, on its own thread when `settings.detached`. A `hashing` worker
/// (the ones that take bcrypt work) runs at the lowest CPU priority.
account_worker_actor spawn_account_worker(caf::local_actor* parent, accounts_settings settings,
                                          bool hashing);

} // namespace bookstore
