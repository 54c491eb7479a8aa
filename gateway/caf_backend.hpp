#pragma once

// The backend routes use, over the actor system: every call becomes one typed request, sent by
// one of a few long-lived bridge actors with a timeout taken from the request's deadline. The
// Asio thread only enqueues; the answer arrives on a CAF thread and goes to the callback.

#include "gateway/backend.hpp"

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <memory>

namespace bookstore::http {

class caf_backend : public backend {
public:
  caf_backend(caf::actor_system& sys, size_t bridges);
  ~caf_backend() override;

  /// Stops the bridges. Callbacks may still run until the actor system has finished; destroy the
  /// backend only after that (routes call back into it from their callbacks).
  void shutdown();

  void ask(get_book msg, callback<book_view> cb) override;
  void ask(list_books msg, callback<book_page> cb) override;
  void ask(create_book msg, callback<book_view> cb) override;
  void ask(update_book msg, callback<book_view> cb) override;
  void ask(change_stock msg, callback<stock_level> cb) override;
  void ask(price_books msg, callback<book_prices> cb) override;
  void ask(probe_health msg, int64_t deadline_ms, callback<health_report> cb) override;
  void ask(register_user msg, callback<user_view> cb) override;
  void ask(login_user msg, callback<login_grant> cb) override;
  void ask(refresh_login msg, callback<login_grant> cb) override;
  void ask(get_user msg, callback<user_view> cb) override;
  void ask(update_user msg, callback<user_view> cb) override;
  void ask(setup_mfa msg, callback<mfa_enrollment> cb) override;
  void ask(enable_mfa msg, callback<user_view> cb) override;
  void ask(delete_user msg, callback<deletion_receipt> cb) override;
  void ask(export_user msg, callback<user_export> cb) override;
  void ask(put_avatar msg, callback<avatar> cb) override;
  void ask(get_avatar msg, callback<avatar> cb) override;
  void ask(end_session msg, callback<session_view> cb) override;
  void ask(check_session msg, callback<session_view> cb) override;
  void ask(get_cart msg, callback<cart_contents> cb) override;
  void ask(set_cart_item msg, callback<cart_contents> cb) override;
  void ask(remove_cart_item msg, callback<cart_contents> cb) override;
  void ask(clear_cart msg, callback<cart_contents> cb) override;
  void ask(place_order msg, callback<order_view> cb) override;
  void ask(get_order msg, callback<order_view> cb) override;
  void ask(cancel_order msg, callback<order_view> cb) override;
  void ask(refund_order msg, callback<order_view> cb) override;
  void ask(ship_order msg, callback<order_view> cb) override;
  void ask(review_order msg, callback<order_view> cb) override;
  void ask(list_orders msg, callback<order_page> cb) override;
  void ask(provider_event msg, callback<payment_view> cb) override;
  void ask(set_provider_fault msg, callback<bool> cb) override;
  void tell(audit_entry entry) override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace bookstore::http
