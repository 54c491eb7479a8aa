#pragma once

// The catalog's memory: the most recently used books, up to a fixed number.

#include "actors/protocol/catalog.hpp"

#include <list>
#include <string>
#include <unordered_map>

namespace bookstore {

class book_cache {
public:
  explicit book_cache(size_t capacity) : capacity_(capacity) {}

  /// The cached book, or nullptr; a hit makes it the most recently used.
  const book* find(const std::string& id);
  /// Adds or replaces; evicts the least recently used past capacity.
  void put(const book& b);
  size_t size() const { return index_.size(); }

private:
  size_t capacity_;
  std::list<book> order_; // front = most recently used
  std::unordered_map<std::string, std::list<book>::iterator> index_;
};

} // namespace bookstore
