#pragma once

// Books in PostgreSQL (table `books`): what the catalog reads on a cache miss and writes through.
// Blocking SQL runs on the store's own detached workers, never on the scheduler.

#include "actors/protocol/catalog.hpp"
#include "actors/protocol/snapshot_store.hpp"

namespace bookstore {

/// One book by id. errc::not_found, errc::storage_unavailable.
struct fetch_book {
  request_ctx ctx;
  std::string book_id;
};

/// Books ordered by id after `after_id`, at most `limit`, with optional genre/author filters.
/// errc::storage_unavailable.
struct query_books {
  request_ctx ctx;
  std::string genre;
  std::string author;
  std::string after_id;
  int32_t limit = 20;
};

struct book_list {
  std::vector<book> items;
};

/// Inserts the book and its inventory item's first snapshot in one transaction; fills in the
/// timestamps. errc::isbn_taken, errc::storage_unavailable.
struct insert_book {
  request_ctx ctx;
  book info;
  snapshot initial_stock;
};

/// Applies a patch. errc::not_found, errc::isbn_taken, errc::storage_unavailable.
struct patch_book {
  request_ctx ctx;
  std::string book_id;
  book_patch patch;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_book& x) {
  return f(caf::meta::type_name("fetch_book"), x.ctx, x.book_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query_books& x) {
  return f(caf::meta::type_name("query_books"), x.ctx, x.genre, x.author, x.after_id, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, book_list& x) {
  return f(caf::meta::type_name("book_list"), x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, insert_book& x) {
  return f(caf::meta::type_name("insert_book"), x.ctx, x.info, x.initial_stock);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, patch_book& x) {
  return f(caf::meta::type_name("patch_book"), x.ctx, x.book_id, x.patch);
}

using book_store_actor = caf::typed_actor<caf::replies_to<fetch_book>::with<book>,
                                          caf::replies_to<query_books>::with<book_list>,
                                          caf::replies_to<insert_book>::with<book>,
                                          caf::replies_to<patch_book>::with<book>>;

} // namespace bookstore
