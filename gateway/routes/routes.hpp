#pragma once

// Route families; each file registers its own routes with their OpenAPI description.

#include "gateway/backend.hpp"
#include "gateway/router.hpp"

namespace bookstore::http {

/// /v1/books…
void add_book_routes(router& r, backend& be);

/// /healthz, /readyz, /metrics, /openapi.json (the document is made from `r` itself).
void add_operation_routes(router& r, backend& be);

/// The request context an actor message starts with.
request_ctx context_of(const request& req);

/// A JSON answer.
response json(int status, std::string body);

} // namespace bookstore::http
