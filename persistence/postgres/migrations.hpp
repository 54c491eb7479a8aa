#pragma once

// Schema migrations: persistence/migrations/*.sql, embedded in the binary at build time and
// applied in name order at start-up under an advisory lock (so nodes starting together apply each
// once), recorded in schema_migrations with a checksum so an edited applied migration is caught.

#include <string>
#include <vector>

namespace bookstore::pg {

struct migration {
  std::string name; ///< e.g. "001_entity_snapshots.sql"
  std::string sql;
};

const std::vector<migration>& embedded_migrations();

/// Applies what is missing. Returns an empty string, or one line saying what went wrong.
std::string apply_migrations(const std::string& dsn, const std::vector<migration>& all);

} // namespace bookstore::pg
