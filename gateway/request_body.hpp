#pragma once

// Reading and checking JSON request bodies. Every check names the field it rejects, so a client
// always learns what to fix; nothing here throws on bad input.

#include "gateway/http.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookstore::http {

/// A problem with the body: which field and why ("" field = the body as a whole).
struct body_error {
  std::string field;
  std::string message;
};

/// Parses `text` as a JSON object.
std::optional<nlohmann::json> parse_object(std::string_view text, body_error& err);

/// Field readers: absent -> nullopt without error; present but wrong -> nullopt with `err` set.
std::optional<std::string> read_string(const nlohmann::json& obj, const char* field,
                                       size_t min_len, size_t max_len, body_error& err);
std::optional<int64_t> read_integer(const nlohmann::json& obj, const char* field, int64_t lo,
                                    int64_t hi, body_error& err);
std::optional<std::vector<std::string>> read_strings(const nlohmann::json& obj,
                                                     const char* field, size_t min_items,
                                                     size_t max_items, size_t max_len,
                                                     body_error& err);

/// The 400 invalid_request answer for `err` (naming its field, if any).
response invalid_body(const body_error& err, std::string_view request_id);

/// Text a client may send in a query value: valid UTF-8 without control characters.
bool clean_text(std::string_view s);

/// An ISBN-10 or ISBN-13 with a valid check digit, hyphens and spaces removed; nullopt otherwise.
std::optional<std::string> normalize_isbn(std::string_view text);

/// Decoded value of query parameter `name` ("+" = space, bad escapes kept); nullopt if absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

} // namespace bookstore::http
