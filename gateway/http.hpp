#pragma once

// What the gateway's request handling sees: plain values, no sockets, so routes are tested
// without a network.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bookstore::http {

struct request {
  std::string method; ///< "GET", "POST", ...
  std::string path;   ///< without the query
  std::string query;  ///< after '?', undecoded
  std::string content_type;
  bool has_body = false;
  std::string body;
  std::string request_id;
  int64_t deadline_ms = 0; ///< Unix ms
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Called once with the answer; may be called from any thread.
using responder = std::function<void(response)>;

} // namespace bookstore::http
