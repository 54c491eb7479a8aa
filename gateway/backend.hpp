#pragma once

// What routes ask of the actor system, as plain asynchronous calls. The real implementation
// (caf_backend) turns each into a typed request with the request's deadline; tests use a fake.
// Callbacks may run on any thread.

#include "actors/protocol/accounts.hpp"
#include "actors/protocol/catalog.hpp"
#include "actors/protocol/errc.hpp"
#include "actors/protocol/health.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/protocol/payments.hpp"
#include "actors/protocol/session.hpp"

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
  virtual void ask(price_books, callback<book_prices> cb) { unsupported(cb); }
  virtual void ask(probe_health msg, int64_t deadline_ms, callback<health_report> cb) = 0;

  // Accounts and sessions. A backend without them (route tests of other families) answers
  // `unavailable`.
  virtual void ask(register_user, callback<user_view> cb) { unsupported(cb); }
  virtual void ask(login_user, callback<login_grant> cb) { unsupported(cb); }
  virtual void ask(refresh_login, callback<login_grant> cb) { unsupported(cb); }
  virtual void ask(get_user, callback<user_view> cb) { unsupported(cb); }
  virtual void ask(update_user, callback<user_view> cb) { unsupported(cb); }
  virtual void ask(setup_mfa, callback<mfa_enrollment> cb) { unsupported(cb); }
  virtual void ask(enable_mfa, callback<user_view> cb) { unsupported(cb); }
  virtual void ask(delete_user, callback<deletion_receipt> cb) { unsupported(cb); }
  virtual void ask(export_user, callback<user_export> cb) { unsupported(cb); }
  virtual void ask(put_avatar, callback<avatar> cb) { unsupported(cb); }
  virtual void ask(get_avatar, callback<avatar> cb) { unsupported(cb); }
  virtual void ask(end_session, callback<session_view> cb) { unsupported(cb); }
  virtual void ask(check_session, callback<session_view> cb) { unsupported(cb); }
  virtual void ask(get_cart, callback<cart_contents> cb) { unsupported(cb); }
  virtual void ask(set_cart_item, callback<cart_contents> cb) { unsupported(cb); }
  virtual void ask(remove_cart_item, callback<cart_contents> cb) { unsupported(cb); }
  virtual void ask(clear_cart, callback<cart_contents> cb) { unsupported(cb); }
  // Orders and payments.
  virtual void ask(place_order, callback<order_view> cb) { unsupported(cb); }
  virtual void ask(get_order, callback<order_view> cb) { unsupported(cb); }
  virtual void ask(cancel_order, callback<order_view> cb) { unsupported(cb); }
  virtual void ask(refund_order, callback<order_view> cb) { unsupported(cb); }
  virtual void ask(ship_order, callback<order_view> cb) { unsupported(cb); }
  virtual void ask(review_order, callback<order_view> cb) { unsupported(cb); }
  virtual void ask(list_orders, callback<order_page> cb) { unsupported(cb); }
  virtual void ask(provider_event, callback<payment_view> cb) { unsupported(cb); }
  virtual void ask(set_provider_fault, callback<bool> cb) { unsupported(cb); }
  /// Appends to the audit log; nobody waits for it.
  virtual void tell(audit_entry) {}

private:
  template <class T>
  static void unsupported(callback<T>& cb) {
    cb(outcome<T>::fail({errc::unavailable, "", "not served by this backend"}));
  }
};

} // namespace bookstore::http
