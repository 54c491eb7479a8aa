#pragma once

// A small JSON writer for answers on the hot path (no DOM, one string). Parsing uses nlohmann.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bookstore::http {

class json_writer {
public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& value(std::string_view s);
  json_writer& value(const char* s) { return value(std::string_view{s}); }
  json_writer& value(const std::string& s) { return value(std::string_view{s}); }
  json_writer& value(int64_t n);
  json_writer& value(bool b);
  json_writer& null();
  json_writer& raw(std::string_view json); ///< an already-encoded value
  json_writer& strings(const std::vector<std::string>& xs);

  std::string take() { return std::move(out_); }
  const std::string& str() const { return out_; }

private:
  void separate();
  std::string out_;
  std::vector<bool> first_; ///< per open container: nothing written into it yet
  bool after_key_ = false;
};

/// Appends `s` to `out` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s);

} // namespace bookstore::http
