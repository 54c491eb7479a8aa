#include "tests/support/scratch_database.hpp"

#include "persistence/postgres/migrations.hpp"

#include <pqxx/pqxx>

#include <cstdlib>
#include <random>
#include <stdexcept>

namespace bookstore::testing {

scratch_database::scratch_database() {
  const char* server = std::getenv("BOOKSTORE_TEST_PG");
  if (server == nullptr || *server == '\0')
    throw std::runtime_error("BOOKSTORE_TEST_PG is not set: run the tests through "
                             "deploy/dev.sh test, which starts PostgreSQL");
  server_ = server;
  std::random_device rd;
  name_ = "bookstore_test_" + std::to_string(rd()) + std::to_string(rd());
  pqxx::connection admin{server_ + "/postgres"};
  pqxx::nontransaction{admin}.exec("CREATE DATABASE " + name_);
  dsn_ = server_ + "/" + name_;
  if (auto err = pg::apply_migrations(dsn_, pg::embedded_migrations()); !err.empty())
    throw std::runtime_error(err);
}

scratch_database::~scratch_database() {
  try {
    pqxx::connection admin{server_ + "/postgres"};
    pqxx::nontransaction{admin}.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
    // A leftover scratch database is harmless; never throw from here.
  }
}

} // namespace bookstore::testing
