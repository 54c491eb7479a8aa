#include "persistence/postgres/migrations.hpp"

#include "actors/common/log.hpp"
#include "persistence/postgres/pg.hpp"

#include <openssl/sha.h>

#include <map>

namespace bookstore::pg {

namespace {

// Any constant works; it only has to be the same on every node.
constexpr const char* lock_sql = "SELECT pg_advisory_lock(727274)";
constexpr const char* unlock_sql = "SELECT pg_advisory_unlock(727274)";
constexpr const char* create_sql = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   " name text PRIMARY KEY,"
                                   " checksum text NOT NULL,"
                                   " applied_at timestamptz NOT NULL DEFAULT now())";

std::string sha256_hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

} // namespace

std::string apply_migrations(const std::string& dsn, const std::vector<migration>& all) {
  auto lg = log::get("persistence");
  try {
    pqxx::connection conn{with_connect_timeout(dsn)};
    pqxx::nontransaction{conn}.exec(lock_sql);
    pqxx::nontransaction{conn}.exec(create_sql);
    std::map<std::string, std::string> applied;
    {
      pqxx::nontransaction tx{conn};
      for (auto row : tx.exec("SELECT name, checksum FROM schema_migrations"))
        applied.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    }
    for (auto& m : all) {
      auto sum = sha256_hex(m.sql);
      if (auto it = applied.find(m.name); it != applied.end()) {
        if (it->second != sum)
          return "migration " + m.name + " was changed after it was applied";
        continue;
      }
      pqxx::work tx{conn};
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", m.name,
                     sum);
      tx.commit();
      log::info(*lg, "-", "applied migration {}", m.name);
    }
    pqxx::nontransaction{conn}.exec(unlock_sql);
    return {};
  } catch (const pqxx::broken_connection& e) {
    return std::string{"cannot reach PostgreSQL: "} + e.what();
  } catch (const std::exception& e) {
    return std::string{"migration failed: "} + e.what();
  }
}

} // namespace bookstore::pg
