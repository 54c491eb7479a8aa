#pragma once

// What routes ask of the actor system, as plain asynchronous calls. The real implementation
// (caf_backend) turns each into a typed request with the request's deadline; tests use a fake.
// Callbacks may run on any thread.

#include "actors/protocol/catalog.hpp"
#include "actors/protocol/errc.hpp"
#include "actors/protocol/health.hpp"

#include <functional>
#include <optional>

namespace bookstore::http {

template <class T>
struct outcome {
  std::optional<T> value;
  error_info error; ///< set when there is no value

  static outcome ok(T x) { return outcome{std::move(x), {}}; }
  static outcome fail(error_info e) { return outcome{std::nullopt, std::move(e)}; }
  explicit operator bool() const { return value.has_value(); }
};

template <class T>
using callback = std::function<void(outcome<T>)>;

class backend {
public:
  virtual ~backend() = default;
  virtual void ask(get_book msg, callback<book_view> cb) = 0;
  virtual void ask(list_books msg, callback<book_page> cb) = 0;
  virtual void ask(create_book msg, callback<book_view> cb) = 0;
  virtual void ask(update_book msg, callback<book_view> cb) = 0;
  virtual void ask(change_stock msg, callback<stock_level> cb) = 0;
  virtual void ask(probe_health msg, int64_t deadline_ms, callback<health_report> cb) = 0;
};

} // namespace bookstore::http
