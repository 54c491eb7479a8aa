#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace bookstore {

/// Starts every request: who asks, until when, and the id every log line of it carries.
struct request_ctx {
  std::string request_id;
  int64_t deadline_ms = 0; ///< Unix ms; 0 = none
  std::string caller;      ///< user id; empty = anonymous
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_ctx& x) {
  return f(caf::meta::type_name("request_ctx"), x.request_id, x.deadline_ms, x.caller);
}

} // namespace bookstore
