#include "actors/catalog/book_cache.hpp"

namespace bookstore {

const book* book_cache::find(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end())
    return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return &*it->second;
}

void book_cache::put(const book& b) {
  if (capacity_ == 0)
    return;
  if (auto it = index_.find(b.id); it != index_.end()) {
    *it->second = b;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.push_front(b);
  index_.emplace(b.id, order_.begin());
  if (index_.size() > capacity_) {
    index_.erase(order_.back().id);
    order_.pop_back();
  }
}

} // namespace bookstore
