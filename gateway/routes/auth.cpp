#include "actors/common/metrics.hpp"
#include "actors/common/time.hpp"
#include "gateway/errors.hpp"
#include "gateway/request_body.hpp"
#include "gateway/routes/routes.hpp"
#include "gateway/views.hpp"

#include <algorithm>

namespace bookstore::http {

namespace {

/// Lower-case ASCII letters; other bytes stay (internationalised addresses are kept as sent).
std::string lower_ascii(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return s;
}

/// A plausible address: local@domain, no spaces, a dotted domain of letters, digits and '-'.
bool plausible_email(const std::string& e) {
  auto at = e.rfind('@');
  if (at == std::string::npos || at == 0 || at > 64 || at + 1 >= e.size())
    return false;
  auto local = std::string_view{e}.substr(0, at);
  auto domain = std::string_view{e}.substr(at + 1);
  if (std::any_of(local.begin(), local.end(),
                  [](unsigned char c) { return c <= ' ' || c == '@' || c == 0x7f; }))
    return false;
  if (domain.find('.') == std::string_view::npos || domain.front() == '.'
      || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return false;
  return std::all_of(domain.begin(), domain.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-';
  });
}

/// Logins and refreshes by outcome (ok, refused = a 401, failed = anything else).
metrics::counter& sign_ins(const char* kind, const char* outcome) {
  return metrics::global().get_counter("bookstore_auth_sign_ins_total",
                                       "logins and token refreshes by outcome",
                                       {{"kind", kind}, {"outcome", outcome}});
}

/// The answer to a login or a refresh: a new access token for the grant.
callback<login_grant> issue_tokens(auth::gate& gate, const request& req, responder done,
                                   const char* kind) {
  return [&gate, kind, rid = req.request_id, done = std::move(done)](outcome<login_grant> o) {
    auto code = o ? errc::none : o.error.code;
    sign_ins(kind, code == errc::none                 ? "ok"
                   : code == errc::unauthenticated || code == errc::invalid_credentials
                       || code == errc::mfa_required || code == errc::invalid_mfa_code
                     ? "refused"
                     : "failed")
      .inc();
    if (!o) {
      auto& e = o.error;
      // A spent refresh token came back: its session is revoked in the entity already; its
      // access tokens must stop working on every node too.
      if (e.code == errc::unauthenticated && e.detail.rfind("refresh_reuse:", 0) == 0)
        gate.revoke(e.detail.substr(14), "", unix_ms_now() / 1000 + gate.access_ttl_s());
      return done(from_error(e, rid));
    }
    auto now = unix_ms_now() / 1000;
    done(json(200, tokens_json(*o.value, gate.issue(*o.value, now), gate.access_ttl_s())));
  };
}

void register_account(backend& be, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto email = read_string(*obj, "email", 3, 254, err);
  if (!err.field.empty())
    return done(invalid_body(err, req.request_id));
  if (!email || !plausible_email(*email))
    return done(invalid("email", "email must be an address like reader@example.com (at most 254 "
                                 "characters)",
                        req.request_id));
  auto password = read_string(*obj, "password", 8, 128, err);
  if (!password)
    return done(invalid("password",
                        err.field.empty() ? "password is required (8..128 characters)"
                                          : err.message,
                        req.request_id));
  auto name = read_string(*obj, "name", 1, 100, err);
  if (!name || name->find_first_not_of(" \t") == std::string::npos)
    return done(invalid("name",
                        err.field.empty() ? "name is required (1..100 characters, not blank)"
                                          : err.message,
                        req.request_id));
  register_user msg{context_of(req), lower_ascii(*email), std::move(*password), std::move(*name),
                    req.client_ip};
  be.ask(std::move(msg), [rid = req.request_id, done = std::move(done)](outcome<user_view> o) {
    if (!o)
      return done(from_error(o.error, rid));
    done(json(201, user_json(*o.value)));
  });
}

void login(backend& be, auth::gate& gate, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto email = read_string(*obj, "email", 1, 254, err);
  if (!email)
    return done(invalid("email", err.field.empty() ? "email is required" : err.message,
                        req.request_id));
  auto password = read_string(*obj, "password", 1, 128, err);
  if (!password)
    return done(invalid("password", err.field.empty() ? "password is required" : err.message,
                        req.request_id));
  auto code = read_string(*obj, "mfa_code", 0, 16, err);
  if (!err.field.empty())
    return done(invalid_body(err, req.request_id));
  login_user msg{context_of(req), lower_ascii(*email), std::move(*password), code.value_or(""),
                 req.client_ip};
  be.ask(std::move(msg), issue_tokens(gate, req, std::move(done), "login"));
}

void refresh(backend& be, auth::gate& gate, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto token = read_string(*obj, "refresh_token", 1, 512, err);
  if (!token)
    return done(invalid("refresh_token",
                        err.field.empty() ? "refresh_token is required" : err.message,
                        req.request_id));
  be.ask(refresh_login{context_of(req), std::move(*token), req.client_ip},
         issue_tokens(gate, req, std::move(done), "refresh"));
}

void logout(backend& be, auth::gate& gate, const request& req, responder done) {
  // Revoked here first: whatever happens next, this token and session stop working now.
  auto now = unix_ms_now() / 1000;
  gate.revoke(req.who.session_id, req.who.jti, std::max(req.who.token_exp, now + gate.access_ttl_s()));
  be.ask(end_session{context_of(req), req.who.session_id},
         [&be, req, done = std::move(done)](outcome<session_view> o) {
           if (!o)
             return done(from_error(o.error, req.request_id));
           audit(be, req, "auth.logout", req.who.session_id);
           response res;
           res.status = 204;
           done(std::move(res));
         });
}

} // namespace

void add_auth_routes(router& r, backend& be, auth::gate& gate) {
  r.add("POST", "/v1/auth/register",
        {"register", "Create a customer account", {201, 400, 409, 413, 415, 429}, "Register",
         "User", {}},
        [&be](const request& req, const params&, responder done) {
          register_account(be, req, std::move(done));
        });
  r.add("POST", "/v1/auth/login",
        {"login", "Sign in (with mfa_code when MFA is enabled)", {200, 400, 401, 413, 415, 429},
         "Login", "Tokens", {}},
        [&be, &gate](const request& req, const params&, responder done) {
          login(be, gate, req, std::move(done));
        });
  r.add("POST", "/v1/auth/refresh",
        {"refresh", "Rotate the refresh token; a spent one revokes the session",
         {200, 400, 401, 413, 415, 429}, "Refresh", "Tokens", {}},
        [&be, &gate](const request& req, const params&, responder done) {
          refresh(be, gate, req, std::move(done));
        });
  r.add("POST", "/v1/auth/logout",
        {"logout", "End the session of the bearer token", {204, 401, 429}, "", "", {},
         "customer"},
        [&be, &gate](const request& req, const params&, responder done) {
          logout(be, gate, req, std::move(done));
        });
}

} // namespace bookstore::http
