#include "actors/catalog/book_cache.hpp"

namespace bookstore {

book_cache::entry* book_cache::find(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end())
    return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return &*it->second;
}

book_cache::entry& book_cache::put(const book& b) {
  if (auto it = index_.find(b.id); it != index_.end()) {
    it->second->info = b;
    order_.splice(order_.begin(), order_, it->second);
    return *it->second;
  }
  order_.push_front(entry{b, std::nullopt});
  index_.emplace(b.id, order_.begin());
  if (capacity_ > 0 && index_.size() > capacity_) {
    index_.erase(order_.back().info.id);
    order_.pop_back();
  }
  return order_.front();
}

void book_cache::set_available(const std::string& id, int64_t available) {
  if (auto it = index_.find(id); it != index_.end())
    it->second->available = available;
}

void book_cache::set_available_if_unknown(const std::string& id, int64_t available) {
  if (auto it = index_.find(id); it != index_.end() && !it->second->available)
    it->second->available = available;
}

void book_cache::forget_available(const std::string& id) {
  if (auto it = index_.find(id); it != index_.end())
    it->second->available.reset();
}

} // namespace bookstore
