#pragma once

// A fresh PostgreSQL database per test, migrated, dropped afterwards. The server comes from
// BOOKSTORE_TEST_PG (deploy/dev.sh test sets it); without it the test fails, never skips.

#include <cstdint>
#include <string>

namespace bookstore::testing {

class scratch_database {
public:
  scratch_database();
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  const std::string& dsn() const { return dsn_; }

  /// WAL flushes done so far by any connection to this database (each bumps its backend's row of
  /// `wal_flush`, migration 007).
  int64_t wal_flushes() const;

private:
  std::string server_;
  std::string name_;
  std::string dsn_;
};

} // namespace bookstore::testing
