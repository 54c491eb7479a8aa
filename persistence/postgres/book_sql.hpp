#pragma once

// The statements of the book store (table `books`), on one connection.

#include "actors/protocol/book_store.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace bookstore::pg {

void prepare_book_statements(pqxx::connection& conn);

std::optional<book> fetch_book_row(pqxx::connection& conn, const std::string& id);

/// Ordered by id, after `after_id`; empty genre/author mean "any".
std::vector<book> query_book_rows(pqxx::connection& conn, const query_books& q);

/// Inserts the book and its inventory item's first snapshot in one transaction.
/// Throws pg::failure(errc::isbn_taken).
book insert_book_row(pqxx::connection& conn, const book& b, const snapshot& initial_stock);

/// nullopt if there is no such book. Throws pg::failure(errc::isbn_taken).
std::optional<book> patch_book_row(pqxx::connection& conn, const std::string& id,
                                   const book_patch& patch);

} // namespace bookstore::pg
