#pragma once

// Restart intensity: at most `max` restarts within `window`; past that, fail upward.

#include <chrono>
#include <cstddef>
#include <deque>

namespace bookstore {

class restart_budget {
public:
  using clock = std::chrono::steady_clock;

  restart_budget(size_t max = 5, clock::duration window = std::chrono::seconds(10))
    : max_(max), window_(window) {}

  /// Records a restart now; false if that exceeds the budget (the caller should give up).
  bool spend(clock::time_point now = clock::now()) {
    while (!history_.empty() && now - history_.front() > window_) history_.pop_front();
    if (history_.size() >= max_)
      return false;
    history_.push_back(now);
    return true;
  }

private:
  size_t max_;
  clock::duration window_;
  std::deque<clock::time_point> history_;
};

} // namespace bookstore
