#pragma once

// The catalog's memory: the most recently used books, up to a fixed number, each with the last
// durable stock level its inventory item published (if one arrived since the book was cached).

#include "actors/protocol/catalog.hpp"

#include <list>
#include <optional>
#include <string>
#include <unordered_map>

namespace bookstore {

class book_cache {
public:
  struct entry {
    book info;
    std::optional<int64_t> available;
  };

  explicit book_cache(size_t capacity) : capacity_(capacity) {}

  /// The cached entry, or nullptr; a hit makes it the most recently used.
  entry* find(const std::string& id);
  /// Adds or replaces the book (keeping a known level); evicts the least recently used.
  entry& put(const book& b);
  /// Records a published level for a cached book; ignored for books not in the cache.
  void set_available(const std::string& id, int64_t available);
  /// Records a level the catalog asked for, unless a published one arrived meanwhile (published
  /// levels come in commit order; an answer to a question may be older).
  void set_available_if_unknown(const std::string& id, int64_t available);
  /// Forgets the level of a book (its item was dropped).
  void forget_available(const std::string& id);
  size_t size() const { return index_.size(); }

private:
  size_t capacity_;
  std::list<entry> order_; // front = most recently used
  std::unordered_map<std::string, std::list<entry>::iterator> index_;
};

} // namespace bookstore
