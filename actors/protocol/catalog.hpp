#pragma once

// The catalog: books, cached in memory, written to PostgreSQL. Book answers carry `available`
// from the book's inventory item.

#include "actors/protocol/inventory.hpp"
#include "actors/protocol/request_ctx.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

/// Minor units (cents) and an ISO 4217 code.
struct money {
  int64_t amount = 0;
  std::string currency;
};

struct book {
  std::string id;
  std::string isbn; ///< digits only (ISBN-10 may end in X)
  std::string title;
  std::vector<std::string> authors;
  std::vector<std::string> genres;
  std::string description;
  money price;
  int32_t published_year = 0; ///< 0 = unknown
  int64_t created_at = 0;     ///< Unix ms
  int64_t updated_at = 0;     ///< Unix ms
};

/// A book with what its inventory item says is available.
struct book_view {
  book info;
  int64_t available = 0;
};

struct book_page {
  std::vector<book_view> items;
  std::string next_cursor; ///< empty = last page
};

/// Which fields of `book_patch::values` to apply.
enum book_field : uint32_t {
  bf_isbn = 1,
  bf_title = 2,
  bf_authors = 4,
  bf_genres = 8,
  bf_description = 16,
  bf_price = 32,
  bf_published_year = 64,
};

struct book_patch {
  uint32_t fields = 0;
  book values;
};

/// One book. errc::not_found.
struct get_book {
  request_ctx ctx;
  std::string book_id;
};

/// A page of books, optionally only those with a genre and/or author (case-insensitive, exact).
/// errc::invalid_request (detail "cursor") for a cursor this catalog did not hand out.
struct list_books {
  request_ctx ctx;
  std::string genre;
  std::string author;
  std::string cursor;
  int32_t limit = 20;
};

/// Creates a book with `stock` on hand, both in one transaction. errc::isbn_taken.
struct create_book {
  request_ctx ctx;
  book draft;
  int64_t stock = 0;
};

/// Changes the fields named by the patch. errc::not_found, errc::isbn_taken.
struct update_book {
  request_ctx ctx;
  std::string book_id;
  book_patch patch;
};

/// Adds `delta` to the book's stock on hand. errc::not_found, errc::insufficient_stock.
struct change_stock {
  request_ctx ctx;
  std::string book_id;
  int64_t delta = 0;
};

/// Titles and prices of several books at once (carts). Never fails for unknown ids: they come
/// back with `found` false. Storage errors fail the whole call.
struct price_books {
  request_ctx ctx;
  std::vector<std::string> book_ids;
};

struct book_price {
  std::string book_id;
  bool found = false;
  std::string title;
  money price;
};

/// In the order of the request.
struct book_prices {
  std::vector<book_price> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, money& x) {
  return f(caf::meta::type_name("money"), x.amount, x.currency);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, book& x) {
  return f(caf::meta::type_name("book"), x.id, x.isbn, x.title, x.authors, x.genres,
           x.description, x.price, x.published_year, x.created_at, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, book_view& x) {
  return f(caf::meta::type_name("book_view"), x.info, x.available);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, book_page& x) {
  return f(caf::meta::type_name("book_page"), x.items, x.next_cursor);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, book_patch& x) {
  return f(caf::meta::type_name("book_patch"), x.fields, x.values);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_book& x) {
  return f(caf::meta::type_name("get_book"), x.ctx, x.book_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_books& x) {
  return f(caf::meta::type_name("list_books"), x.ctx, x.genre, x.author, x.cursor, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_book& x) {
  return f(caf::meta::type_name("create_book"), x.ctx, x.draft, x.stock);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, update_book& x) {
  return f(caf::meta::type_name("update_book"), x.ctx, x.book_id, x.patch);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_stock& x) {
  return f(caf::meta::type_name("change_stock"), x.ctx, x.book_id, x.delta);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, price_books& x) {
  return f(caf::meta::type_name("price_books"), x.ctx, x.book_ids);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, book_price& x) {
  return f(caf::meta::type_name("book_price"), x.book_id, x.found, x.title, x.price);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, book_prices& x) {
  return f(caf::meta::type_name("book_prices"), x.items);
}

using catalog_actor = caf::typed_actor<caf::replies_to<get_book>::with<book_view>,
                                       caf::replies_to<price_books>::with<book_prices>,
                                       caf::replies_to<list_books>::with<book_page>,
                                       caf::replies_to<create_book>::with<book_view>,
                                       caf::replies_to<update_book>::with<book_view>,
                                       caf::replies_to<change_stock>::with<stock_level>,
                                       /// A committed stock level published by an inventory
                                       /// item (see stock_watch_actor).
                                       caf::reacts_to<stock_level>,
                                       /// An item was dropped: forget its published level.
                                       caf::reacts_to<stock_forgotten>>;

} // namespace bookstore
