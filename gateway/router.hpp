#pragma once

// Routes: method + pattern with {parameters} ("/v1/books/{id}/stock"). The route table is also
// the source of /openapi.json, so the document cannot list what is not served.

#include "gateway/http.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bookstore::http {

using params = std::vector<std::pair<std::string, std::string>>;

/// The value of path parameter `name` ("" if absent).
const std::string& param(const params& ps, std::string_view name);

using handler = std::function<void(const request&, const params&, responder)>;

/// What /openapi.json says about a route.
struct route_doc {
  std::string operation_id;
  std::string summary;
  std::vector<int> statuses;     ///< statuses it can answer
  std::string request_schema;    ///< components/schemas name of the body, if any
  std::string response_schema;   ///< schema of the success answer, if JSON
  std::vector<std::string> query; ///< query parameters it reads
  /// Who may call it: "" anyone; "customer" any signed-in user; "admin", "operator" that role.
  std::string role{};
  /// Media types of the body it takes (the API answers 415 for others); "" = JSON.
  std::vector<std::string> body_types{};
};

struct route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments; ///< pattern split at '/'
  route_doc doc;
  handler fn;
};

class router {
public:
  void add(std::string method, std::string pattern, route_doc doc, handler fn);

  enum class outcome { found, method_not_allowed, not_found };

  struct match_result {
    outcome kind = outcome::not_found;
    const route* found = nullptr;
    params values;
    std::string allow; ///< for 405: the methods the path has, comma-separated
  };

  match_result match(std::string_view method, std::string_view path) const;

  const std::vector<route>& routes() const { return routes_; }

private:
  std::vector<route> routes_;
};

} // namespace bookstore::http
