#pragma once

// An in-memory book_store_actor that counts what it is asked.

#include "actors/protocol/book_store.hpp"
#include "actors/protocol/errc.hpp"

#include <caf/all.hpp>

#include <map>

namespace bookstore::fakes {

struct fake_books_state {
  std::map<std::string, book> books;
  std::vector<snapshot> initial_stock; ///< what insert_book carried
  size_t fetches = 0;
  size_t queries = 0;
  static inline const char* name = "fake_book_store";
};

inline book_store_actor::behavior_type
fake_book_store(book_store_actor::stateful_pointer<fake_books_state> self) {
  return {
    [self](fetch_book& req) -> caf::result<book> {
      ++self->state.fetches;
      auto it = self->state.books.find(req.book_id);
      if (it == self->state.books.end())
        return make_error(errc::not_found, req.book_id, "no such book");
      return it->second;
    },
    [self](query_books& req) {
      ++self->state.queries;
      book_list out;
      for (auto& [id, b] : self->state.books) {
        if (id <= req.after_id)
          continue;
        if (static_cast<int32_t>(out.items.size()) == req.limit)
          break;
        out.items.push_back(b);
      }
      return out;
    },
    [self](insert_book& req) -> caf::result<book> {
      for (auto& [id, b] : self->state.books)
        if (b.isbn == req.info.isbn)
          return make_error(errc::isbn_taken, "isbn", "taken");
      self->state.initial_stock.push_back(req.initial_stock);
      self->state.books[req.info.id] = req.info;
      return req.info;
    },
    [self](patch_book& req) -> caf::result<book> {
      auto it = self->state.books.find(req.book_id);
      if (it == self->state.books.end())
        return make_error(errc::not_found, req.book_id, "no such book");
      if (req.patch.fields & bf_title)
        it->second.title = req.patch.values.title;
      return it->second;
    },
  };
}

/// An inventory that knows fixed levels and counts the items it was asked about.
struct fake_inventory_state {
  std::map<std::string, int64_t> on_hand;
  std::vector<std::string> touched;
  static inline const char* name = "fake_inventory";
};

inline inventory_actor::behavior_type
fake_inventory(inventory_actor::stateful_pointer<fake_inventory_state> self) {
  auto level = [self](const std::string& id) {
    self->state.touched.push_back(id);
    auto n = self->state.on_hand[id];
    return stock_level{id, n, 0, n};
  };
  return {
    [level](get_stock& m) { return level(m.book_id); },
    [self, level](adjust_stock& m) {
      self->state.on_hand[m.book_id] += m.delta;
      return level(m.book_id);
    },
    [level](reserve_stock& m) { return level(m.book_id); },
    [level](commit_reservation& m) { return level(m.book_id); },
    [level](release_reservation& m) { return level(m.book_id); },
    [level](return_stock& m) { return level(m.book_id); },
    [](wake_entity&) {},
  };
}

} // namespace bookstore::fakes
