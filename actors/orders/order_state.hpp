#pragma once

// The snapshot of an order (msgpack map form: fields may be added, never renamed).

#include "actors/entity/sparse_map.hpp"

#include <msgpack.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

struct order_item_record {
  std::string book_id;
  std::string title;
  int64_t quantity = 0;
  int64_t unit_amount = 0;
  MSGPACK_DEFINE_MAP(book_id, title, quantity, unit_amount)
};

struct order_history_record {
  std::string status;
  int64_t at = 0;
  MSGPACK_DEFINE_MAP(status, at)
};

struct order_state {
  std::string user_id; ///< empty = no such order
  std::string body_hash;
  std::string status;
  std::string step; ///< the saga step under way: reserve, pay, commit, capture, await_review,
                    ///< release, cancel, refund, done
  int64_t attempt = 0;
  int64_t step_since = 0;    ///< Unix ms: when this attempt was handed out
  int64_t step_deadline = 0; ///< Unix ms: handed out again if not reported back by then
  int64_t retry_at = 0;   ///< Unix ms: the next attempt waits until then (0 = not waiting)
  std::vector<order_item_record> items;
  int64_t total = 0;
  std::string currency;
  std::string name, line1, line2, city, postal_code, country;
  std::string payment_id;
  std::string payment_token;
  std::string payment_status;
  std::string decline_code;
  std::string short_book;
  bool manual_capture = false;
  bool payment_started = false;
  bool stock_committed = false;
  bool restock = true;
  std::string client_ip;
  std::string session_id;
  std::string carrier, tracking_number, shipment_status;
  std::vector<order_history_record> history;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t pending_since = 0;
  std::string answer;
  std::string review; ///< the operator's decision: "", "approved", "rejected"
  std::string last_error;
  std::string request_id; ///< of the request that started the saga (logs of its steps)
  // Fields at their defaults are left out of snapshots: a default never changes (sparse_map.hpp).
  BOOKSTORE_SPARSE_MAP(order_state, user_id, body_hash, status, step, attempt, step_since,
                       step_deadline, retry_at, items, total, currency, name, line1, line2, city,
                       postal_code, country, payment_id, payment_token, payment_status,
                       decline_code, short_book, manual_capture, payment_started, stock_committed,
                       restock, client_ip, session_id, carrier, tracking_number, shipment_status,
                       history, created_at, updated_at, pending_since, answer, review, last_error,
                       request_id)
};

} // namespace bookstore
