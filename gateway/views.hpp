#pragma once

// Protocol values as the JSON of API.md.

#include "actors/protocol/catalog.hpp"
#include "gateway/json_writer.hpp"

namespace bookstore::http {

void write_book(json_writer& w, const book_view& b);
std::string book_json(const book_view& b);
std::string book_page_json(const book_page& page);
std::string stock_json(const stock_level& lvl);

} // namespace bookstore::http
