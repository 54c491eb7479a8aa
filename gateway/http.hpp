#pragma once

// What the gateway's request handling sees: plain values, no sockets, so routes are tested
// without a network.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bookstore::http {

/// Who sent a request with a valid access token.
struct caller {
  std::string user_id;
  std::string session_id;
  std::vector<std::string> roles;
  std::string jti;
  int64_t token_exp = 0; ///< Unix seconds
  std::string token;     ///< the bearer token itself
};

struct request {
  std::string method; ///< "GET", "POST", ...
  std::string path;   ///< without the query
  std::string query;  ///< after '?', undecoded
  std::string content_type;
  bool has_body = false;
  std::string body;
  std::string request_id;
  int64_t deadline_ms = 0; ///< Unix ms
  std::string peer_ip;       ///< the socket's peer
  std::string authorization; ///< the Authorization header, as sent
  std::string forwarded_for; ///< the X-Forwarded-For header, as sent
  bool has_idempotency_key = false;
  std::string idempotency_key;  ///< the Idempotency-Key header, as sent
  std::string stripe_signature; ///< the Stripe-Signature header, as sent (webhooks)
  // Filled by the API before the route runs:
  std::string client_ip; ///< peer, or X-Forwarded-For's last hop when the peer is a trusted proxy
  caller who;            ///< the authenticated caller of a route that needs one
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
