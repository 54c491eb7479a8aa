#pragma once

// The snapshot of an inventory item (msgpack map form: fields may be added, never renamed).

#include <msgpack.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace bookstore {

struct reservation {
  int64_t quantity = 0;
  int64_t expires_at = 0; ///< Unix ms
  MSGPACK_DEFINE_MAP(quantity, expires_at)
};

struct inventory_state {
  int64_t on_hand = 0;
  std::map<std::string, reservation> reservations; ///< live holds by order id
  /// Orders whose reservation became a sale, kept (order id -> forget after, Unix ms) so that a
  /// repeated commit is recognised.
  std::map<std::string, int64_t> committed;
  /// Orders whose stock came back (cancelled, refunded), kept (order id -> forget after) so that
  /// a repeated return is recognised.
  std::map<std::string, int64_t> returned;
  MSGPACK_DEFINE_MAP(on_hand, reservations, committed, returned)
};

} // namespace bookstore
