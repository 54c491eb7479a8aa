#pragma once

// The one error mapper: API.md's error shape and statuses. Nothing else in the code base picks an
// HTTP status for an error.

#include "actors/protocol/errc.hpp"
#include "gateway/http.hpp"

#include <string_view>

namespace bookstore::http {

/// {"error":{"code","message","request_id", extra...}} with `status`.
response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view request_id,
                        const std::vector<std::pair<std::string, std::string>>& extra = {});

/// A client error found by the gateway itself: 400 invalid_request naming the field.
response invalid(std::string_view field, std::string_view message, std::string_view request_id);

/// Adds `WWW-Authenticate: Bearer` (every 401 carries it).
response with_challenge(response res);

/// 401 unauthenticated.
response unauthenticated(std::string_view message, std::string_view request_id);

/// What an actor answered, as HTTP.
response from_error(const error_info& err, std::string_view request_id);

} // namespace bookstore::http
