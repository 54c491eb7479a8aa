#pragma once

// PostgreSQL plumbing shared by the stores: connections that come back after a failure, array
// literals (pqxx 6.4 cannot bind std::vector), and the mapping of SQL failures to errc.

#include "actors/protocol/errc.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bookstore::pg {

/// `dsn` with a connect timeout (3 s) unless it names one.
std::string with_connect_timeout(const std::string& dsn);

/// A text[] (or, for "\\x…" hex strings, bytea[]) literal: {"a","b\"c"}.
std::string array_literal(const std::vector<std::string>& items);

/// The strings of a text[] column (NULL elements left out).
std::vector<std::string> text_array(const pqxx::field& f);

/// A bigint[] literal: {1,2,3}.
std::string array_literal(const std::vector<int64_t>& items);

/// An array literal built element by element, for callers that would otherwise copy every
/// element into a vector first. Text elements are quoted (as array_literal does).
class array_builder {
public:
  void add(std::string_view text);
  void add(int64_t n);
  /// The literal ("{...}"); the builder is empty afterwards.
  std::string take();

private:
  std::string out_ = "{";
};

/// "\\x" followed by the hex of `bytes`: bytea input text.
std::string bytea_hex(const std::string& bytes);

/// A connection opened on first use and replaced after it broke; while PostgreSQL is down it is
/// retried at most once per `backoff`, so callers fail fast instead of queueing behind connects.
class lazy_connection {
public:
  using prepare_fn = std::function<void(pqxx::connection&)>;

  lazy_connection(std::string dsn, prepare_fn prepare,
                  std::chrono::milliseconds backoff = std::chrono::milliseconds(500));
  ~lazy_connection();

  /// The open connection; throws pqxx::broken_connection while none can be had.
  pqxx::connection& get();
  /// Forget the connection (after a broken_connection).
  void reset();

private:
  std::string dsn_;
  prepare_fn prepare_;
  std::chrono::milliseconds backoff_;
  std::chrono::steady_clock::time_point retry_after_{};
  std::unique_ptr<pqxx::connection> conn_;
};

/// Makes every commit on `conn` return only once it is flushed to disk, whatever the server's or
/// the database's default (`synchronous_commit`). Such a commit is also visible to other sessions
/// only from then on: what they read of it is durable.
void commit_synchronously(pqxx::connection& conn);

/// Runs `body` in a transaction on `conn`; a broken connection is retried once on a new one.
/// Maps failures: broken connection / other SQL errors -> storage_unavailable, with `what` in the
/// log. `body` may throw caf::error-carrying `pg::failure` for expected conditions.
struct failure : std::runtime_error {
  explicit failure(caf::error e) : std::runtime_error("storage failure"), err(std::move(e)) {}
  caf::error err;
};

template <class F>
auto run(lazy_connection& conn, F&& body) -> decltype(body(std::declval<pqxx::connection&>())) {
  for (int attempt = 0;; ++attempt) {
    try {
      return body(conn.get());
    } catch (const pqxx::broken_connection&) {
      conn.reset();
      if (attempt >= 1)
        throw failure{make_error(errc::storage_unavailable, "", "database unreachable")};
    }
  }
}

} // namespace bookstore::pg
