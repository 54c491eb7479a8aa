#pragma once

// The order index: one row per order in PostgreSQL (owner, status, total, IP, times), the read
// model behind order lists and the fraud rule's "IP never seen for this user". The order entity
// stays the truth. Its row is written by the snapshot store in the same statement as the order's
// snapshot (order_listing), so it is never there without its order. It is written with every
// snapshot except those of the first attempt of the reserve and pay steps (statuses pending and
// reserved, attempt 1), which end in milliseconds: an order is listed at once when it moves on
// (confirmed, rejected, payment_pending, ...), and as pending or reserved once such a step
// failed or timed out, so an order stuck there is listed (its user sees it, the account purge
// finds it). Between two writes the row may still hold the status before (the entity has the
// truth: lists show the entity's view).

#include "actors/protocol/request_ctx.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

/// The index row of an order, carried by the order's snapshot write. Empty `status`: no row
/// (the order is not listed yet, or its row is as written before).
struct order_listing {
  std::string user_id;
  std::string status;
  int64_t total = 0;
  std::string currency;
  std::string ip; ///< "" = none (not recorded, or anonymised)
  int64_t created_at = 0; ///< Unix ms
  int64_t updated_at = 0; ///< Unix ms
};

/// Whether an earlier order of `user_id` from `ip` (other than `order_id`) went through
/// (confirmed, shipped, delivered or refunded): a declined or held order does not make an IP
/// known. errc::storage_unavailable.
struct check_ip {
  std::string user_id;
  std::string ip;
  std::string order_id;
};

/// Order ids newest first: of `user_id` (or all), of `status` (or any), strictly older than the
/// cursor (`before_ms`, `before_id`; 0 = from the newest).
struct query_orders {
  std::string user_id;
  std::string status;
  int64_t before_ms = 0;
  std::string before_id;
  int64_t limit = 20;
};

struct order_refs {
  std::vector<std::string> ids;
  std::vector<int64_t> created;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_listing& x) {
  return f(caf::meta::type_name("order_listing"), x.user_id, x.status, x.total, x.currency, x.ip,
           x.created_at, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, check_ip& x) {
  return f(caf::meta::type_name("check_ip"), x.user_id, x.ip, x.order_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query_orders& x) {
  return f(caf::meta::type_name("query_orders"), x.user_id, x.status, x.before_ms, x.before_id,
           x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_refs& x) {
  return f(caf::meta::type_name("order_refs"), x.ids, x.created);
}

/// Reads of the order index (its rows are written with the orders' snapshots).
using order_index_actor = caf::typed_actor<caf::replies_to<check_ip>::with<bool>,
                                           caf::replies_to<query_orders>::with<order_refs>>;

} // namespace bookstore
