#include "actors/protocol/errc.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace bookstore {

const char* to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::invalid_request: return "invalid_request";
    case errc::not_found: return "not_found";
    case errc::insufficient_stock: return "insufficient_stock";
    case errc::invalid_state: return "invalid_state";
    case errc::isbn_taken: return "isbn_taken";
    case errc::version_conflict: return "version_conflict";
    case errc::storage_unavailable: return "storage_unavailable";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::internal: return "internal";
    case errc::unauthenticated: return "unauthenticated";
    case errc::invalid_credentials: return "invalid_credentials";
    case errc::mfa_required: return "mfa_required";
    case errc::invalid_mfa_code: return "invalid_mfa_code";
    case errc::email_taken: return "email_taken";
    case errc::forbidden: return "forbidden";
    case errc::idempotency_conflict: return "idempotency_conflict";
    case errc::not_settled: return "not_settled";
  }
  return "internal";
}

caf::error make_error(errc code, std::string detail, std::string message) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("bookstore"),
                    caf::make_message(std::move(detail), std::move(message))};
}

error_info describe(const caf::error& err) {
  error_info out;
  if (!err)
    return out;
  if (err.category() == caf::atom("bookstore")) {
    out.code = static_cast<errc>(err.code());
    auto& ctx = err.context();
    if (ctx.match_elements<std::string, std::string>()) {
      out.detail = ctx.get_as<std::string>(0);
      out.message = ctx.get_as<std::string>(1);
    }
    return out;
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        out.code = errc::timeout;
        out.message = "the operation did not finish within its deadline";
        return out;
      case caf::sec::request_receiver_down:
      case caf::sec::remote_linking_failed:
      case caf::sec::cannot_connect_to_node:
        out.code = errc::unavailable;
        out.message = "a service is restarting";
        return out;
      default:
        break;
    }
  }
  out.code = errc::internal;
  out.message = caf::to_string(err);
  return out;
}

} // namespace bookstore
