#pragma once

// A fresh PostgreSQL database per test, migrated, dropped afterwards. The server comes from
// BOOKSTORE_TEST_PG (deploy/dev.sh test sets it); without it the test fails, never skips.

#include <string>

namespace bookstore::testing {

class scratch_database {
public:
  scratch_database();
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  const std::string& dsn() const { return dsn_; }

  /// The database's name.
  const std::string& name() const { return name_; }

private:
  std::string server_;
  std::string name_;
  std::string dsn_;
};

} // namespace bookstore::testing
