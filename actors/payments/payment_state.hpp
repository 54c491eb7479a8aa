#pragma once

// The snapshot of a payment intent (msgpack map form: fields may be added, never renamed).

#include "actors/entity/sparse_map.hpp"

#include <msgpack.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bookstore {

struct payment_state {
  std::string order_id;
  std::string status; ///< "" = none; see actors/protocol/payments.hpp
  int64_t amount = 0;
  std::string currency;
  std::string token;
  bool manual_capture = false;
  std::string decline_code;
  std::string provider_ref;
  std::string op;          ///< the provider call under way ("" = none)
  int64_t call = 0;        ///< its number; only its answer counts
  int64_t call_started = 0;
  int64_t call_deadline = 0; ///< the call counts as failed if not answered by then
  std::string last_op;     ///< the last call asked for, with the caller's attempt
  int64_t last_op_attempt = 0;
  std::string last_error;  ///< why that call failed ("" = it did not)
  std::vector<std::string> events; ///< provider event ids applied (newest last, bounded)
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // Fields at their defaults are left out of snapshots: a default never changes (sparse_map.hpp).
  BOOKSTORE_SPARSE_MAP(payment_state, order_id, status, amount, currency, token, manual_capture,
                       decline_code, provider_ref, op, call, call_started, call_deadline, last_op,
                       last_op_attempt, last_error, events, created_at, updated_at)
};

} // namespace bookstore
