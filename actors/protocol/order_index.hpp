#pragma once

// The order index: one row per order in PostgreSQL (owner, status, total, IP, times), the read
// model behind order lists and the fraud rule's "IP never seen for this user". The order entity
// stays the truth; the index follows it (status updates are batched and may lag a moment).

#include "actors/protocol/request_ctx.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

/// Adds an order to the index (repeat-safe); answers whether an earlier order of the same user
/// from the same IP went through (confirmed, shipped, delivered or refunded): a declined or
/// held order does not make an IP known.
struct index_order {
  std::string order_id;
  std::string user_id;
  std::string status;
  int64_t total = 0;
  std::string currency;
  std::string ip;
  int64_t created_at = 0; ///< Unix ms
};

/// The order's durable status, told after each write of the order entity.
struct order_status_changed {
  std::string order_id;
  std::string status;
  int64_t updated_at = 0;
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
typename Inspector::result_type inspect(Inspector& f, index_order& x) {
  return f(caf::meta::type_name("index_order"), x.order_id, x.user_id, x.status, x.total,
           x.currency, x.ip, x.created_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_status_changed& x) {
  return f(caf::meta::type_name("order_status_changed"), x.order_id, x.status, x.updated_at);
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

using order_index_actor = caf::typed_actor<caf::replies_to<index_order>::with<bool>,
                                           caf::reacts_to<order_status_changed>,
                                           caf::replies_to<query_orders>::with<order_refs>>;

} // namespace bookstore
