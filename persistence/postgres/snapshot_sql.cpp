#include "persistence/postgres/snapshot_sql.hpp"

#include "persistence/postgres/pg.hpp"

#include <unordered_map>

namespace bookstore::pg {

namespace {

constexpr const char* load_sql
  = "SELECT u.entity_id, s.version, s.state, s.schema_version, s.wake_at"
    " FROM unnest($2::text[]) WITH ORDINALITY AS u(entity_id, ord)"
    " LEFT JOIN entity_snapshots s ON s.entity_type = $1 AND s.entity_id = u.entity_id"
    " ORDER BY u.ord";

// Updates apply only over version - 1 (a plain UPDATE: one index lookup, and no index entries
// at all when no indexed column changed and the page has room, a HOT update); version 1 is new
// and is inserted unless the row exists. Either way a write that lost its version check is not
// returned. The states travel as one binary parameter ($4, sliced by $5 offsets and $6 lengths):
// no hex text to build here nor to parse in PostgreSQL.
// Order index rows ($9..$16) ride along: each is written only if its order's snapshot is (the
// join with what was written), in the same transaction, so a listed order always has its
// snapshot, and the index costs no transaction of its own.
constexpr const char* save_sql
  = "WITH u AS ("
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $5::integer[], $6::integer[],"
    "                      $7::integer[], $8::bigint[])"
    "   AS u(entity_type, entity_id, version, at, len, schema_version, wake_at)),"
    " updated AS ("
    " UPDATE entity_snapshots t"
    " SET version = u.version, state = substring($4::bytea FROM u.at FOR u.len),"
    "     schema_version = u.schema_version, wake_at = nullif(u.wake_at, 0), updated_at = now()"
    " FROM u"
    " WHERE u.version > 1 AND t.entity_type = u.entity_type AND t.entity_id = u.entity_id"
    "   AND t.version = u.version - 1"
    " RETURNING t.entity_type, t.entity_id),"
    " inserted AS ("
    " INSERT INTO entity_snapshots"
    " (entity_type, entity_id, version, state, schema_version, wake_at, updated_at)"
    " SELECT u.entity_type, u.entity_id, 1, substring($4::bytea FROM u.at FOR u.len),"
    "        u.schema_version, nullif(u.wake_at, 0), now()"
    " FROM u WHERE u.version = 1"
    " ON CONFLICT (entity_type, entity_id) DO NOTHING"
    " RETURNING entity_type, entity_id),"
    " saved AS (SELECT * FROM updated UNION ALL SELECT * FROM inserted),"
    " listed AS ("
    " INSERT INTO orders AS o (id, user_id, status, total, currency, ip, created_at, updated_at)"
    " SELECT l.id, l.user_id, l.status, l.total, l.currency, nullif(l.ip, ''),"
    "        to_timestamp(l.created_ms / 1000.0), to_timestamp(l.updated_ms / 1000.0)"
    " FROM unnest($9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[],"
    "             $15::bigint[], $16::bigint[])"
    "        AS l(id, user_id, status, total, currency, ip, created_ms, updated_ms)"
    " JOIN saved s ON s.entity_type = 'order' AND s.entity_id = l.id"
    " ON CONFLICT (id) DO UPDATE"
    "   SET user_id = EXCLUDED.user_id, status = EXCLUDED.status, ip = EXCLUDED.ip,"
    "       updated_at = EXCLUDED.updated_at)"
    " SELECT entity_type, entity_id FROM saved";

constexpr const char* due_sql = "SELECT entity_id FROM entity_snapshots"
                                " WHERE entity_type = $1 AND wake_at <= $2"
                                " ORDER BY wake_at LIMIT $3";

} // namespace

void prepare_snapshot_statements(pqxx::connection& conn) {
  conn.prepare("snap_load", load_sql);
  conn.prepare("snap_save", save_sql);
  conn.prepare("snap_due", due_sql);
}

void prepare_snapshot_writer(pqxx::connection& conn) {
  prepare_snapshot_statements(conn);
  commit_synchronously(conn);
}

std::vector<snapshot> load_snapshot_rows(pqxx::connection& conn, const std::string& type,
                                         const std::vector<std::string>& ids) {
  // One statement: no BEGIN/COMMIT round trips.
  pqxx::nontransaction tx{conn};
  auto rows = tx.exec_prepared("snap_load", type, array_literal(ids));
  std::vector<snapshot> out;
  out.reserve(rows.size());
  for (auto row : rows) {
    snapshot s;
    s.entity_type = type;
    s.entity_id = row[0].as<std::string>();
    if (!row[1].is_null()) {
      s.version = row[1].as<int64_t>();
      s.state = pqxx::binarystring{row[2]}.str();
      s.schema_version = row[3].as<int32_t>();
      s.wake_at = row[4].is_null() ? 0 : row[4].as<int64_t>();
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<uint8_t> save_snapshot_rows(pqxx::connection& conn,
                                        const std::vector<const snapshot*>& writes) {
  array_builder types, ids, versions, offsets, lengths, schemas, wakes;
  // The order index rows of the writes that carry one.
  array_builder l_ids, l_users, l_statuses, l_totals, l_currencies, l_ips, l_created, l_updated;
  size_t bytes = 0;
  for (auto* w : writes)
    bytes += w->state.size();
  std::string states;
  states.reserve(bytes);
  for (auto* w : writes) {
    types.add(w->entity_type);
    ids.add(w->entity_id);
    versions.add(w->version);
    offsets.add(static_cast<int64_t>(states.size()) + 1); // substring counts from 1
    lengths.add(static_cast<int64_t>(w->state.size()));
    states += w->state;
    schemas.add(w->schema_version);
    wakes.add(w->wake_at > 0 ? w->wake_at : 0);
    if (auto& l = w->listing; !l.status.empty()) {
      l_ids.add(w->entity_id);
      l_users.add(l.user_id);
      l_statuses.add(l.status);
      l_totals.add(l.total);
      l_currencies.add(l.currency);
      l_ips.add(l.ip);
      l_created.add(l.created_at);
      l_updated.add(l.updated_at);
    }
  }
  // One statement in its own implicit transaction: atomic, and one round trip instead of three
  // (BEGIN, the statement, COMMIT).
  pqxx::nontransaction tx{conn};
  auto rows = tx.exec_prepared("snap_save", types.take(), ids.take(), versions.take(),
                               pqxx::binarystring{states.data(), states.size()}, offsets.take(),
                               lengths.take(), schemas.take(), wakes.take(), l_ids.take(),
                               l_users.take(), l_statuses.take(), l_totals.take(),
                               l_currencies.take(), l_ips.take(), l_created.take(),
                               l_updated.take());
  // Rows not returned lost their version check.
  std::unordered_map<std::string, size_t> index;
  index.reserve(writes.size());
  for (size_t i = 0; i < writes.size(); ++i)
    index.emplace(writes[i]->entity_type + '\0' + writes[i]->entity_id, i);
  std::vector<uint8_t> committed(writes.size(), 0);
  for (auto row : rows) {
    auto key = row[0].as<std::string>() + '\0' + row[1].as<std::string>();
    if (auto it = index.find(key); it != index.end())
      committed[it->second] = 1;
  }
  return committed;
}

std::vector<std::string> due_snapshot_ids(pqxx::connection& conn, const std::string& type,
                                          int64_t before_ms, int32_t limit) {
  pqxx::nontransaction tx{conn};
  std::vector<std::string> out;
  for (auto row : tx.exec_prepared("snap_due", type, before_ms, limit))
    out.push_back(row[0].as<std::string>());
  return out;
}

} // namespace bookstore::pg
