#pragma once

// A circuit breaker: closed while calls succeed; open after `failures` failures in a row, when
// calls are refused at once; after `cooldown_ms` half-open, when one probe goes through: its
// success closes the circuit, its failure opens it again. Plain state, no clock of its own.

#include <cstdint>

namespace bookstore {

class circuit_breaker {
public:
  enum class state : int { closed = 0, open = 1, half_open = 2 };

  circuit_breaker(int64_t failures = 5, int64_t cooldown_ms = 10000)
    : threshold_(failures), cooldown_ms_(cooldown_ms) {}

  /// Whether a call may go out now. In half-open, only the first caller gets through.
  bool allow(int64_t now_ms) {
    if (state_ == state::open && now_ms - opened_at_ >= cooldown_ms_) {
      state_ = state::half_open;
      probing_ = false;
    }
    if (state_ == state::closed)
      return true;
    if (state_ == state::half_open && !probing_) {
      probing_ = true;
      return true;
    }
    return false;
  }

  void succeeded() {
    state_ = state::closed;
    failures_ = 0;
    probing_ = false;
  }

  void failed(int64_t now_ms) {
    ++failures_;
    if (state_ == state::half_open || failures_ >= threshold_) {
      state_ = state::open;
      opened_at_ = now_ms;
      probing_ = false;
    }
  }

  state current() const { return state_; }

private:
  int64_t threshold_;
  int64_t cooldown_ms_;
  state state_ = state::closed;
  int64_t failures_ = 0;
  int64_t opened_at_ = 0;
  bool probing_ = false;
};

} // namespace bookstore
