#include "gateway/views.hpp"

#include "actors/common/time.hpp"

namespace bookstore::http {

void write_book(json_writer& w, const book_view& v) {
  auto& b = v.info;
  w.begin_object();
  w.key("id").value(b.id);
  w.key("isbn").value(b.isbn);
  w.key("title").value(b.title);
  w.key("authors").strings(b.authors);
  w.key("genres").strings(b.genres);
  w.key("description").value(b.description);
  w.key("price").begin_object().key("amount").value(b.price.amount);
  w.key("currency").value(b.price.currency).end_object();
  w.key("published_year");
  if (b.published_year > 0)
    w.value(static_cast<int64_t>(b.published_year));
  else
    w.null();
  w.key("available").value(v.available);
  w.key("created_at").value(rfc3339(b.created_at));
  w.key("updated_at").value(rfc3339(b.updated_at));
  w.end_object();
}

std::string book_json(const book_view& b) {
  json_writer w;
  write_book(w, b);
  return w.take();
}

std::string book_page_json(const book_page& page) {
  json_writer w;
  w.begin_object().key("items").begin_array();
  for (auto& b : page.items) write_book(w, b);
  w.end_array().key("next_cursor");
  if (page.next_cursor.empty())
    w.null();
  else
    w.value(page.next_cursor);
  w.end_object();
  return w.take();
}

std::string stock_json(const stock_level& lvl) {
  json_writer w;
  w.begin_object();
  w.key("book_id").value(lvl.book_id);
  w.key("on_hand").value(lvl.on_hand);
  w.key("reserved").value(lvl.reserved);
  w.key("available").value(lvl.available);
  w.end_object();
  return w.take();
}

} // namespace bookstore::http
