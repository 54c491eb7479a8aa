#pragma once

// The gateway's request handling, without sockets: route lookup, 404/405/415, request metrics,
// X-Request-Id on every answer, and a last line of defence that turns a bug into a logged 500
// instead of a crash.

#include "gateway/auth/gate.hpp"
#include "gateway/backend.hpp"
#include "gateway/router.hpp"

#include <spdlog/logger.h>

#include <memory>
#include <optional>

namespace bookstore::http {

/// What routes need from the configuration.
struct api_settings {
  std::string webhook_secret; ///< key of Stripe-Signature on payment webhooks ("" = refuse all)
  bool faults_enabled = false; ///< serve POST /v1/admin/faults
};

class api {
public:
  api(backend& be, auth::gate& gate, api_settings settings = {});

  /// Handles one request (request_id and deadline already set); `done` gets the answer once,
  /// possibly from another thread.
  void handle(request req, responder done);

  const router& table() const { return router_; }

private:
  /// The caller of `req` for a route that needs one, or the 401/403 that refuses it.
  std::optional<response> authorize(request& req, const route& r);

  /// Runs the route; a route that throws is a logged 500, never a crash.
  void run(const route& r, const request& req, const params& values, responder finish);

  backend& be_;
  auth::gate& gate_;
  router router_;
  std::shared_ptr<spdlog::logger> log_;
};

/// The media type of a Content-Type value, lower-case, without parameters.
std::string media_type(std::string_view content_type);

} // namespace bookstore::http
