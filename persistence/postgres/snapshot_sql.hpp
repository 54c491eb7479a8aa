#pragma once

// The statements of the snapshot store, on one connection. Plain code, no actors: the writer and
// reader actors (snapshot_store.cpp) call it from their own threads.

#include "actors/protocol/snapshot_store.hpp"

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace bookstore::pg {

/// Prepares the statements below on a fresh connection (a reader's).
void prepare_snapshot_statements(pqxx::connection& conn);

/// As prepare_snapshot_statements, for a writer's connection: each of its commits returns only
/// once it is on disk (pg::commit_synchronously), so a write is durable when save_snapshot_rows
/// returns, and what readers find of it is durable too.
void prepare_snapshot_writer(pqxx::connection& conn);

/// Latest snapshots of `ids` (type `type`), in that order; version 0 where there is none.
std::vector<snapshot> load_snapshot_rows(pqxx::connection& conn, const std::string& type,
                                         const std::vector<std::string>& ids);

/// Writes all in one transaction (one statement); per write 1 = committed, 0 = version conflict.
/// A (type, id) must not appear twice.
std::vector<uint8_t> save_snapshot_rows(pqxx::connection& conn,
                                        const std::vector<const snapshot*>& writes);

/// Ids of `type` with wake_at <= before_ms, earliest first.
std::vector<std::string> due_snapshot_ids(pqxx::connection& conn, const std::string& type,
                                          int64_t before_ms, int32_t limit);

} // namespace bookstore::pg
