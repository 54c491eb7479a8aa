#pragma once

#include "actors/common/time.hpp"
#include "actors/protocol/request_ctx.hpp"

#include <caf/timespan.hpp>

#include <algorithm>
#include <chrono>

namespace bookstore {

/// What is left of a request's deadline, at least 1 ms; `fallback` when it has none.
inline caf::timespan time_left(const request_ctx& ctx, caf::timespan fallback) {
  if (ctx.deadline_ms <= 0)
    return fallback;
  auto left = std::max<int64_t>(1, ctx.deadline_ms - unix_ms_now());
  return std::chrono::milliseconds(left);
}

} // namespace bookstore
