#pragma once

// /openapi.json, made from the router's own table: every served route and only those.

#include "gateway/router.hpp"

#include <string>

namespace bookstore::http {

std::string openapi_document(const router& r);

} // namespace bookstore::http
