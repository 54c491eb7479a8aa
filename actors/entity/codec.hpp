#pragma once

// msgpack (map form) encoding of entity state: fields can be added without breaking old snapshots.

#include <msgpack.hpp>

#include <string>

namespace bookstore::entity {

template <class State>
std::string encode(const State& st) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, st);
  return std::string{buf.data(), buf.size()};
}

/// Throws msgpack::type_error / msgpack::unpack_error on bytes that are not a State.
template <class State>
State decode(const std::string& bytes) {
  auto handle = msgpack::unpack(bytes.data(), bytes.size());
  State st;
  handle.get().convert(st);
  return st;
}

} // namespace bookstore::entity
