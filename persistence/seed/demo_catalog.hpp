#pragma once

// A deterministic demo catalog: book n is always the same book (id, ISBN, title, authors,
// genres, price, stock), so dev machines, tests and benchmarks see one catalog.

#include "actors/protocol/catalog.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <functional>

namespace bookstore::demo {

struct demo_book {
  book info;
  int64_t stock = 0;
};

/// Book number `n` (0-based) of the demo catalog.
demo_book book_at(uint64_t n);

/// Writes books [0, count) and their inventory items' first snapshots, in batches; books that
/// already exist are left alone. `progress` gets the number written so far.
void seed(pqxx::connection& conn, uint64_t count,
          const std::function<void(uint64_t)>& progress = nullptr);

} // namespace bookstore::demo
