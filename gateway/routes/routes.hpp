#pragma once

// Route families; each file registers its own routes with their OpenAPI description.

#include "gateway/auth/gate.hpp"
#include "gateway/backend.hpp"
#include "gateway/router.hpp"

namespace bookstore::http {

/// /v1/books…
void add_book_routes(router& r, backend& be);

/// /v1/auth/… (register, login, refresh, logout).
void add_auth_routes(router& r, backend& be, auth::gate& gate);

/// /v1/me…, /v1/users/{id}/avatar.
void add_me_routes(router& r, backend& be, auth::gate& gate);

/// /v1/cart…
void add_cart_routes(router& r, backend& be);

/// /v1/orders…, /v1/admin/orders…
void add_order_routes(router& r, backend& be);

/// /v1/webhooks/payments, /v1/admin/faults (only when `faults_enabled`).
void add_payment_routes(router& r, backend& be, std::string webhook_secret, bool faults_enabled);

/// Tells the audit log that `req`'s caller did `action` on `subject`.
void audit(backend& be, const request& req, std::string action, std::string subject,
           std::string detail_json = {});

/// /healthz, /readyz, /metrics, /openapi.json (the document is made from `r` itself).
void add_operation_routes(router& r, backend& be);

/// The request context an actor message starts with.
request_ctx context_of(const request& req);

/// A JSON answer.
response json(int status, std::string body);

} // namespace bookstore::http
