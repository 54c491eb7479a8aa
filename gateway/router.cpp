#include "gateway/router.hpp"

namespace bookstore::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  if (!path.empty() && path.front() == '/')
    pos = 1;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) {
      out.push_back(path.substr(pos));
      break;
    }
    out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

/// Percent-decodes one path segment; false for malformed escapes.
bool decode_segment(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size())
      return false;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0)
      return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

} // namespace

const std::string& param(const params& ps, std::string_view name) {
  static const std::string none;
  for (auto& [k, v] : ps)
    if (k == name)
      return v;
  return none;
}

void router::add(std::string method, std::string pattern, route_doc doc, handler fn) {
  route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  for (auto seg : split_path(r.pattern)) r.segments.emplace_back(seg);
  r.doc = std::move(doc);
  r.fn = std::move(fn);
  routes_.push_back(std::move(r));
}

router::match_result router::match(std::string_view method, std::string_view path) const {
  match_result res;
  auto segs = split_path(path);
  std::string decoded;
  size_t best_literal = 0;
  for (auto& r : routes_) {
    if (r.segments.size() != segs.size())
      continue;
    params values;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (is_param(r.segments[i])) {
        ok = !segs[i].empty() && decode_segment(segs[i], decoded);
        if (ok)
          values.emplace_back(r.segments[i].substr(1, r.segments[i].size() - 2), decoded);
      } else {
        ok = r.segments[i] == segs[i];
      }
    }
    if (!ok)
      continue;
    if (r.method == method) {
      // The most literal route wins: /v1/books/trending before /v1/books/{id}.
      size_t literal = 0;
      for (auto& seg : r.segments) literal += is_param(seg) ? 0 : 1;
      if (res.found == nullptr || literal > best_literal) {
        res.kind = outcome::found;
        res.found = &r;
        res.values = std::move(values);
        best_literal = literal;
      }
      continue;
    }
    if (res.allow.find(r.method) == std::string::npos)
      res.allow += (res.allow.empty() ? "" : ", ") + r.method;
    if (res.found == nullptr)
      res.kind = outcome::method_not_allowed;
  }
  if (res.found != nullptr)
    res.allow.clear();
  return res;
}

} // namespace bookstore::http
