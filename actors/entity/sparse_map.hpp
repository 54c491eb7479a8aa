#pragma once

// Map-form msgpack for entity state that leaves out every field still at its default value.
// A key that is missing decodes to the default (msgpack-c's map unpacking only fills the keys it
// finds), so snapshots written with all keys and without them read the same; only the bytes
// shrink (an order in flight has a dozen empty fields: carrier, tracking, decline code, ...).
// So a field's default is part of the snapshot format: it must never change once snapshots are
// written (a missing key reads as the default of the code that reads it).
//
//   struct order_state { ...; BOOKSTORE_SPARSE_MAP(order_state, user_id, status, ...) };

#include <msgpack.hpp>

#include <cstddef>
#include <tuple>
#include <utility>

namespace bookstore::entity::detail {

// Whether a field holds its default: strings and containers when both are empty (their
// elements need no ==), anything else by ==.
template <class T>
auto same_value(const T& x, const T& d, int) -> decltype(bool(x.empty())) {
  return x.empty() && d.empty();
}

template <class T>
auto same_value(const T& x, const T& d, long) -> decltype(bool(x == d)) {
  return x == d;
}

template <class Tuple, size_t... Is>
size_t count_set(const Tuple& fields, const Tuple& defaults, std::index_sequence<Is...>) {
  return (size_t{0} + ... +
          (same_value(std::get<2 * Is + 1>(fields), std::get<2 * Is + 1>(defaults), 0) ? 0 : 1));
}

template <class Packer, class Tuple, size_t... Is>
void pack_set(Packer& pk, const Tuple& fields, const Tuple& defaults, std::index_sequence<Is...>) {
  auto one = [&](const auto& name, const auto& value, const auto& fallback) {
    if (!same_value(value, fallback, 0)) {
      pk.pack(name);
      pk.pack(value);
    }
  };
  (one(std::get<2 * Is>(fields), std::get<2 * Is + 1>(fields), std::get<2 * Is + 1>(defaults)),
   ...);
}

/// Packs the (name, value) pairs of `fields` whose value differs from the same pair of `defaults`.
template <class Packer, class Tuple>
void pack_sparse(Packer& pk, const Tuple& fields, const Tuple& defaults) {
  constexpr size_t pairs = std::tuple_size<Tuple>::value / 2;
  auto idx = std::make_index_sequence<pairs>{};
  pk.pack_map(static_cast<uint32_t>(count_set(fields, defaults, idx)));
  pack_set(pk, fields, defaults, idx);
}

} // namespace bookstore::entity::detail

/// Like MSGPACK_DEFINE_MAP(fields...), but packing only fields that differ from `Type{}`.
#define BOOKSTORE_SPARSE_MAP(Type, ...)                                                            \
  auto msgpack_fields() const {                                                                    \
    return msgpack::type::make_define_map MSGPACK_DEFINE_MAP_IMPL(__VA_ARGS__);                    \
  }                                                                                                \
  template <class Packer>                                                                          \
  void msgpack_pack(Packer& msgpack_pk) const {                                                    \
    static const Type defaults{};                                                                  \
    ::bookstore::entity::detail::pack_sparse(msgpack_pk, msgpack_fields().a,                       \
                                             defaults.msgpack_fields().a);                         \
  }                                                                                                \
  void msgpack_unpack(msgpack::object const& msgpack_o) {                                          \
    msgpack::type::make_define_map MSGPACK_DEFINE_MAP_IMPL(__VA_ARGS__).msgpack_unpack(msgpack_o); \
  }                                                                                                \
  template <class MSGPACK_OBJECT>                                                                  \
  void msgpack_object(MSGPACK_OBJECT* msgpack_o, msgpack::zone& msgpack_z) const {                 \
    msgpack_fields().msgpack_object(msgpack_o, msgpack_z);                                         \
  }
