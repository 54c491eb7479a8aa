#include "persistence/postgres/pg.hpp"

#include <charconv>

namespace bookstore::pg {

std::string with_connect_timeout(const std::string& dsn) {
  if (dsn.find("connect_timeout") != std::string::npos)
    return dsn;
  if (dsn.rfind("postgres://", 0) == 0 || dsn.rfind("postgresql://", 0) == 0)
    return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=3";
  return dsn + " connect_timeout=3";
}

void array_builder::add(std::string_view item) {
  out_ += out_.size() > 1 ? ",\"" : "\"";
  // Copy runs between the characters that need a backslash (hex bytea has none). A plain scan:
  // string_view::find_first_of calls memchr once per character, which made these adds the
  // largest part of building a batch.
  const char* run = item.data();
  const char* end = run + item.size();
  for (const char* p = run; p != end; ++p) {
    if (*p != '"' && *p != '\\')
      continue;
    out_.append(run, static_cast<size_t>(p - run));
    out_ += '\\';
    run = p; // the character itself starts the next run
  }
  out_.append(run, static_cast<size_t>(end - run));
  out_ += '"';
}

void array_builder::add(int64_t n) {
  if (out_.size() > 1)
    out_ += ',';
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  out_.append(buf, static_cast<size_t>(end - buf));
}

std::string array_builder::take() {
  out_ += '}';
  auto out = std::move(out_);
  out_ = "{";
  return out;
}

std::string array_literal(const std::vector<std::string>& items) {
  array_builder b;
  for (auto& item : items) b.add(item);
  return b.take();
}

std::vector<std::string> text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::juncture::done;
       item = parser.get_next())
    if (item.first == pqxx::array_parser::juncture::string_value)
      out.push_back(std::move(item.second));
  return out;
}

std::string array_literal(const std::vector<int64_t>& items) {
  array_builder b;
  for (auto n : items) b.add(n);
  return b.take();
}

std::string bytea_hex(const std::string& bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(2 + bytes.size() * 2, '\0');
  out[0] = '\\';
  out[1] = 'x';
  char* o = out.data() + 2;
  for (unsigned char c : bytes) {
    *o++ = hex[c >> 4];
    *o++ = hex[c & 15];
  }
  return out;
}

void commit_synchronously(pqxx::connection& conn) {
  pqxx::nontransaction tx{conn};
  tx.exec("SET synchronous_commit TO on");
}

lazy_connection::lazy_connection(std::string dsn, prepare_fn prepare,
                                 std::chrono::milliseconds backoff)
  : dsn_(with_connect_timeout(dsn)), prepare_(std::move(prepare)), backoff_(backoff) {}

lazy_connection::~lazy_connection() = default;

pqxx::connection& lazy_connection::get() {
  if (conn_ && conn_->is_open())
    return *conn_;
  conn_.reset();
  auto now = std::chrono::steady_clock::now();
  if (now < retry_after_)
    throw pqxx::broken_connection{"database unreachable (waiting before the next attempt)"};
  try {
    auto c = std::make_unique<pqxx::connection>(dsn_);
    if (prepare_)
      prepare_(*c);
    conn_ = std::move(c);
    return *conn_;
  } catch (const pqxx::broken_connection&) {
    retry_after_ = now + backoff_;
    throw;
  }
}

void lazy_connection::reset() {
  conn_.reset();
}

} // namespace bookstore::pg
