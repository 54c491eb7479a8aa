#include "gateway/http_api.hpp"

#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/common/time.hpp"
#include "gateway/errors.hpp"
#include "gateway/routes/routes.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <unordered_map>

namespace bookstore::http {

namespace {

/// Per-thread cache of metric series, so the hot path takes no lock after the first request.
struct route_metrics {
  metrics::histogram* latency = nullptr;
  std::unordered_map<int, metrics::counter*> by_status;
};

route_metrics& metrics_of(const route* r) {
  thread_local std::unordered_map<const route*, route_metrics> cache;
  auto& m = cache[r];
  if (m.latency == nullptr)
    m.latency = &metrics::global().get_histogram(
      "bookstore_http_request_duration_seconds", "HTTP request latency by route",
      metrics::latency_buckets(), {{"route", r ? r->pattern : "unmatched"}});
  return m;
}

metrics::counter& counter_of(const route* r, const std::string& method, int status) {
  auto& m = metrics_of(r);
  auto& c = m.by_status[status];
  if (c == nullptr)
    c = &metrics::global().get_counter("bookstore_http_requests_total",
                                       "HTTP requests by route, method and status",
                                       {{"route", r ? r->pattern : "unmatched"},
                                        {"method", r ? method : "other"},
                                        {"status", std::to_string(status)}});
  return *c;
}

} // namespace

std::string media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto type = content_type.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string out{type};
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

api::api(backend& be, auth::gate& gate, api_settings settings)
  : be_(be), gate_(gate), log_(log::get("gateway")) {
  add_operation_routes(router_, be);
  add_book_routes(router_, be);
  add_auth_routes(router_, be, gate);
  add_me_routes(router_, be, gate);
  add_cart_routes(router_, be);
  add_order_routes(router_, be);
  add_payment_routes(router_, be, settings.webhook_secret, settings.faults_enabled);
}

namespace {

/// Requests refused by the gate, by reason (missing, invalid, revoked, forbidden, rate_limited).
metrics::counter& refused(const char* reason) {
  return metrics::global().get_counter("bookstore_gateway_refused_total",
                                       "requests refused before their route, by reason",
                                       {{"reason", reason}});
}

} // namespace

std::optional<response> api::authorize(request& req, const route& r) {
  static auto& missing = refused("missing_token");
  static auto& invalid = refused("invalid_token");
  static auto& revoked = refused("revoked");
  static auto& forbidden = refused("forbidden");
  auto v = gate_.authenticate(req.authorization, unix_ms_now() / 1000, req.who);
  switch (v) {
    case auth::verdict::ok:
      break;
    case auth::verdict::missing:
      missing.inc();
      return unauthenticated("this needs a bearer token (Authorization: Bearer …)",
                             req.request_id);
    case auth::verdict::invalid:
      invalid.inc();
      return unauthenticated("the token is malformed, expired or not ours", req.request_id);
    case auth::verdict::revoked:
      revoked.inc();
      return unauthenticated("the session was ended", req.request_id);
  }
  // "admin|operator": any of them.
  auto& roles = req.who.roles;
  auto has_role = [&] {
    size_t start = 0;
    for (;;) {
      auto bar = r.doc.role.find('|', start);
      auto one = r.doc.role.substr(start, bar == std::string::npos ? bar : bar - start);
      if (std::find(roles.begin(), roles.end(), one) != roles.end())
        return true;
      if (bar == std::string::npos)
        return false;
      start = bar + 1;
    }
  };
  if (r.doc.role != "customer" && !has_role()) {
    forbidden.inc();
    auto needed = r.doc.role;
    for (auto bar = needed.find('|'); bar != std::string::npos; bar = needed.find('|'))
      needed.replace(bar, 1, " or ");
    return error_response(403, "forbidden", "this needs the " + needed + " role",
                          req.request_id);
  }
  return std::nullopt;
}

namespace {

/// Probes and scrapes are not client traffic: never limited, never counted (their answers still
/// say what the budget is).
bool exempt_from_limit(const std::string& path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

} // namespace

void api::handle(request req, responder done) {
  auto started = std::chrono::steady_clock::now();
  auto m = router_.match(req.method, req.path);
  const route* r = m.found;
  // Every answer leaves through here: request id, metrics, and a log line for server errors.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  req.client_ip = gate_.client_ip(req.peer_ip, req.forwarded_for);
  std::optional<auth::rate_decision> limit;
  bool exempt = exempt_from_limit(req.path);
  if (gate_.limits())
    limit = exempt ? gate_.peek(req.client_ip, unix_ms_now())
                   : gate_.limit(req.client_ip, unix_ms_now());
  auto finish = [this, r, method = req.method, rid = req.request_id, started, answered, limit,
                 done = std::move(done)](response res) {
    if (answered->exchange(true))
      return; // a route that answered and then threw: the first answer stands
    res.headers.emplace_back("X-Request-Id", rid);
    if (limit) {
      res.headers.emplace_back("RateLimit-Limit", std::to_string(limit->limit));
      res.headers.emplace_back("RateLimit-Remaining", std::to_string(limit->remaining));
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    metrics_of(r).latency->observe(took.count());
    counter_of(r, method, res.status).inc();
    auto route_name = r != nullptr ? std::string_view{r->pattern} : std::string_view{"-"};
    if (res.status >= 500)
      log::warn(*log_, rid, "{} {} -> {} in {:.1f} ms", method, route_name, res.status,
                took.count() * 1000);
    else
      log::debug(*log_, rid, "{} {} -> {} in {:.1f} ms", method, route_name, res.status,
                 took.count() * 1000);
    done(std::move(res));
  };
  if (limit && !limit->allowed && !exempt) {
    static auto& limited = refused("rate_limited");
    limited.inc();
    auto res = error_response(429, "rate_limited",
                              "too many requests from this address; try again later",
                              req.request_id);
    res.headers.emplace_back("Retry-After", std::to_string(limit->retry_after_s));
    return finish(std::move(res));
  }
  if (m.kind == router::outcome::not_found)
    return finish(error_response(404, "not_found", "no such resource", req.request_id));
  if (m.kind == router::outcome::method_not_allowed) {
    auto res = error_response(405, "method_not_allowed",
                              req.method + " is not allowed here; allowed: " + m.allow,
                              req.request_id);
    res.headers.emplace_back("Allow", m.allow);
    return finish(std::move(res));
  }
  if (!r->doc.role.empty())
    if (auto refused = authorize(req, *r))
      return finish(std::move(*refused));
  if (req.has_body) {
    auto type = media_type(req.content_type);
    auto& allowed = r->doc.body_types;
    if (allowed.empty() ? type != "application/json"
                        : std::find(allowed.begin(), allowed.end(), type) == allowed.end())
      return finish(error_response(415, "unsupported_media_type",
                                   allowed.empty()
                                     ? "request bodies must be Content-Type: application/json"
                                     : "this takes Content-Type " + allowed.front() + " or "
                                         + allowed.back(),
                                   req.request_id));
  }
  if (r->doc.role.empty() || r->doc.role == "customer")
    return run(*r, req, m.values, finish);
  // Privileged routes also ask the session entity: a session revoked on another node is refused
  // even while Redis cannot tell this one.
  check_session check{context_of(req), req.who.session_id}; // before `req` moves below
  be_.ask(std::move(check),
          [this, r, req = std::move(req), values = std::move(m.values),
           finish](outcome<session_view> o) mutable {
            if (!o)
              return finish(from_error(o.error, req.request_id));
            run(*r, req, values, finish);
          });
}

void api::run(const route& r, const request& req, const params& values, responder finish) {
  try {
    r.fn(req, values, finish);
  } catch (const std::exception& e) {
    log::error(*log_, req.request_id, "route {} threw: {}", r.pattern, e.what());
    finish(error_response(500, "internal", "internal error", req.request_id));
  }
}

} // namespace bookstore::http
