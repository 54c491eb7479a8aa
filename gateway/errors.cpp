#include "gateway/errors.hpp"

#include "gateway/json_writer.hpp"

namespace bookstore::http {

response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view request_id,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  json_writer w;
  w.begin_object().key("error").begin_object();
  w.key("code").value(code).key("message").value(message).key("request_id").value(request_id);
  for (auto& [k, v] : extra) w.key(k).value(v);
  w.end_object().end_object();
  response res;
  res.status = status;
  res.body = w.take();
  if (status == 503)
    res.headers.emplace_back("Retry-After", "1");
  return res;
}

response invalid(std::string_view field, std::string_view message, std::string_view request_id) {
  return error_response(400, "invalid_request", message, request_id,
                        {{"field", std::string{field}}});
}

response with_challenge(response res) {
  res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

response unauthenticated(std::string_view message, std::string_view request_id) {
  return with_challenge(error_response(401, "unauthenticated", message, request_id));
}

response from_error(const error_info& err, std::string_view rid) {
  auto msg = [&](const char* fallback) {
    return err.message.empty() ? std::string_view{fallback} : std::string_view{err.message};
  };
  switch (err.code) {
    case errc::invalid_request:
      if (err.detail.empty())
        return error_response(400, "invalid_request", msg("invalid request"), rid);
      return invalid(err.detail, msg("invalid request"), rid);
    case errc::not_found:
      return error_response(404, "not_found", msg("not found"), rid);
    case errc::insufficient_stock:
      return error_response(409, "insufficient_stock", msg("not enough stock"), rid,
                            {{"book_id", err.detail}});
    case errc::invalid_state:
      return error_response(409, "invalid_state", msg("not possible in the current state"), rid);
    case errc::isbn_taken:
      return error_response(409, "isbn_taken", msg("another book has this ISBN"), rid,
                            {{"field", "isbn"}});
    case errc::unauthenticated:
      return unauthenticated(msg("authentication required"), rid);
    case errc::invalid_credentials:
      return with_challenge(
        error_response(401, "invalid_credentials", "wrong email or password", rid));
    case errc::mfa_required:
      return with_challenge(
        error_response(401, "mfa_required", msg("an MFA code is required"), rid));
    case errc::invalid_mfa_code:
      return with_challenge(
        error_response(401, "invalid_mfa_code", msg("the MFA code is not valid"), rid));
    case errc::email_taken:
      return error_response(409, "email_taken", msg("an account with this email exists"), rid,
                            {{"field", "email"}});
    case errc::forbidden:
      return error_response(403, "forbidden", msg("not allowed"), rid);
    case errc::idempotency_conflict:
      return error_response(409, "idempotency_conflict",
                            msg("this Idempotency-Key was used with another request"), rid,
                            {{"field", "Idempotency-Key"}});
    case errc::version_conflict:
    case errc::storage_unavailable:
    case errc::unavailable:
      return error_response(503, "unavailable", "a dependency is unavailable; try again", rid);
    case errc::timeout:
      return error_response(504, "timeout",
                            "the operation did not finish within its deadline; it may still "
                            "complete",
                            rid);
    case errc::none:
    case errc::not_settled:
    case errc::internal:
      break;
  }
  return error_response(500, "internal", "internal error", rid);
}

} // namespace bookstore::http
