#pragma once

// msgpack (map form) encoding of entity state: fields can be added without breaking old snapshots.

#include <msgpack.hpp>

#include <algorithm>
#include <cstring>
#include <string>

namespace bookstore::entity {

/// Where msgpack writes: a buffer grown by doubling and filled with memcpy (msgpack writes a
/// field as several small pieces; std::string::append per piece was a visible cost), handed over
/// as the string that is kept.
struct byte_sink {
  std::string buf;
  size_t used = 0;
  void write(const char* data, size_t size) {
    if (used + size > buf.size())
      buf.resize(std::max(buf.size() * 2, used + size));
    std::memcpy(&buf[used], data, size);
    used += size;
  }
};

template <class State>
std::string encode(const State& st) {
  byte_sink sink;
  sink.buf.resize(512);
  msgpack::pack(sink, st);
  sink.buf.resize(sink.used);
  return std::move(sink.buf);
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
