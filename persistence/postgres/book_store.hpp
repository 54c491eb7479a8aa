#pragma once

// The book store of this node: a front actor over a few detached workers, each with its own
// PostgreSQL connection, handing requests out in turn.

#include "actors/protocol/book_store.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace bookstore {

struct book_store_settings {
  std::string dsn;
  size_t workers = 2;
  bool detached = true;
};

book_store_actor spawn_book_store(caf::event_based_actor* parent, book_store_settings settings);

book_store_actor make_book_store(caf::actor_system& sys, book_store_settings settings);

} // namespace bookstore
