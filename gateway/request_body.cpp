#include "gateway/request_body.hpp"

#include "gateway/errors.hpp"

namespace bookstore::http {

namespace {

/// Text we store must not hold NUL (PostgreSQL rejects it) or other C0 controls except tab/LF/CR.
bool storable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      return false;
  return true;
}

/// Length in characters (code points) of valid UTF-8.
size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c >> 5) == 0x6) {
      n = 1, cp = c & 0x1F;
    } else if ((c >> 4) == 0xE) {
      n = 2, cp = c & 0x0F;
    } else if ((c >> 3) == 0x1E) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size())
      return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2)
        return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
        || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += n + 1;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0
               && hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else { // a stray '%' stays itself: the value is then checked like any other
      out += in[i];
    }
  }
  return out;
}

} // namespace

std::optional<nlohmann::json> parse_object(std::string_view text, body_error& err) {
  auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) {
    err = {"", "the body is not valid JSON"};
    return std::nullopt;
  }
  if (!doc.is_object()) {
    err = {"", "the body must be a JSON object"};
    return std::nullopt;
  }
  return doc;
}

std::optional<std::string> read_string(const nlohmann::json& obj, const char* field,
                                       size_t min_len, size_t max_len, body_error& err) {
  auto it = obj.find(field);
  if (it == obj.end())
    return std::nullopt;
  if (!it->is_string()) {
    err = {field, std::string{field} + " must be a string"};
    return std::nullopt;
  }
  auto& s = it->get_ref<const std::string&>();
  auto len = utf8_length(s);
  if (len < min_len || len > max_len) {
    err = {field, std::string{field} + " must be " + std::to_string(min_len) + ".."
                    + std::to_string(max_len) + " characters"};
    return std::nullopt;
  }
  if (!storable(s)) {
    err = {field, std::string{field} + " contains control characters"};
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> read_integer(const nlohmann::json& obj, const char* field, int64_t lo,
                                    int64_t hi, body_error& err) {
  auto it = obj.find(field);
  if (it == obj.end())
    return std::nullopt;
  auto range = std::string{field} + " must be an integer in " + std::to_string(lo) + ".."
               + std::to_string(hi);
  if (!it->is_number_integer()) {
    err = {field, range};
    return std::nullopt;
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(hi)) {
    err = {field, range};
    return std::nullopt;
  }
  auto v = it->get<int64_t>();
  if (v < lo || v > hi) {
    err = {field, range};
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> read_strings(const nlohmann::json& obj,
                                                     const char* field, size_t min_items,
                                                     size_t max_items, size_t max_len,
                                                     body_error& err) {
  auto it = obj.find(field);
  if (it == obj.end())
    return std::nullopt;
  auto shape = std::string{field} + " must be an array of " + std::to_string(min_items) + ".."
               + std::to_string(max_items) + " strings of 1.." + std::to_string(max_len)
               + " characters";
  if (!it->is_array() || it->size() < min_items || it->size() > max_items) {
    err = {field, shape};
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (auto& item : *it) {
    if (!item.is_string()) {
      err = {field, shape};
      return std::nullopt;
    }
    auto& s = item.get_ref<const std::string&>();
    auto len = utf8_length(s);
    if (len < 1 || len > max_len || !storable(s)) {
      err = {field, shape};
      return std::nullopt;
    }
    out.push_back(s);
  }
  return out;
}

bool clean_text(std::string_view s) {
  return valid_utf8(s) && storable(s);
}

std::optional<std::string> normalize_isbn(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c == '-' || c == ' ')
      continue;
    digits += c;
  }
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (digits.size() == 13) {
    int sum = 0;
    for (size_t i = 0; i < 13; ++i) {
      if (!is_digit(digits[i]))
        return std::nullopt;
      sum += (digits[i] - '0') * (i % 2 == 0 ? 1 : 3);
    }
    return sum % 10 == 0 ? std::optional<std::string>{digits} : std::nullopt;
  }
  if (digits.size() == 10) {
    int sum = 0;
    for (size_t i = 0; i < 10; ++i) {
      int v;
      if (is_digit(digits[i]))
        v = digits[i] - '0';
      else if (i == 9 && (digits[i] == 'X' || digits[i] == 'x'))
        v = 10;
      else
        return std::nullopt;
      sum += v * static_cast<int>(10 - i);
    }
    if (digits[9] == 'x')
      digits[9] = 'X';
    return sum % 11 == 0 ? std::optional<std::string>{digits} : std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    auto part = query.substr(pos, amp == std::string_view::npos ? query.npos : amp - pos);
    auto eq = part.find('=');
    auto key = part.substr(0, eq);
    if (key == name)
      return url_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    pos = amp + 1;
  }
  return std::nullopt;
}

response invalid_body(const body_error& err, std::string_view request_id) {
  return err.field.empty() ? error_response(400, "invalid_request", err.message, request_id)
                           : invalid(err.field, err.message, request_id);
}

} // namespace bookstore::http
