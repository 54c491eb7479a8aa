#include "actors/common/metrics.hpp"
#include "actors/common/time.hpp"
#include "gateway/errors.hpp"
#include "gateway/json_writer.hpp"
#include "gateway/openapi.hpp"
#include "gateway/routes/routes.hpp"

#include <memory>
#include <mutex>

namespace bookstore::http {

request_ctx context_of(const request& req) {
  return request_ctx{req.request_id, req.deadline_ms, req.who.user_id};
}

void audit(backend& be, const request& req, std::string action, std::string subject,
           std::string detail_json) {
  be.tell(audit_entry{req.who.user_id, std::move(action), std::move(subject), req.client_ip,
                      req.request_id, std::move(detail_json)});
}

response json(int status, std::string body) {
  response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

namespace {

constexpr int64_t readiness_budget_ms = 2000;

void ready(backend& be, const request& req, responder done) {
  auto deadline = std::min<int64_t>(req.deadline_ms, unix_ms_now() + readiness_budget_ms);
  be.ask(probe_health{}, deadline, [done = std::move(done)](outcome<health_report> o) {
    auto pg = o ? (o.value->postgres.empty() ? "ok" : o.value->postgres) : std::string{"unknown"};
    auto redis = o ? (o.value->redis.empty() ? "ok" : o.value->redis) : std::string{"unknown"};
    bool all_ok = pg == "ok" && redis == "ok";
    json_writer w;
    w.begin_object().key("status").value(all_ok ? "ready" : "unavailable");
    w.key("checks").begin_object();
    w.key("postgres").value(pg).key("redis").value(redis).key("cluster").value("ok");
    w.end_object().end_object();
    auto res = json(all_ok ? 200 : 503, w.take());
    if (!all_ok)
      res.headers.emplace_back("Retry-After", "1");
    done(std::move(res));
  });
}

} // namespace

void add_operation_routes(router& r, backend& be) {
  r.add("GET", "/healthz", {"health", "Liveness: 200 while the process runs", {200}, "", "Health", {}},
        [](const request&, const params&, responder done) {
          done(json(200, R"({"status":"ok"})"));
        });
  r.add("GET", "/readyz",
        {"readiness", "Readiness: PostgreSQL, Redis and cluster checks", {200, 503}, "", "Ready",
         {}},
        [&be](const request& req, const params&, responder done) {
          ready(be, req, std::move(done));
        });
  r.add("GET", "/metrics", {"metrics", "Prometheus text format", {200}, "", "", {}},
        [](const request&, const params&, responder done) {
          response res;
          res.content_type = "text/plain; version=0.0.4; charset=utf-8";
          res.body = metrics::global().render();
          done(std::move(res));
        });
  // The document is made from the finished route table on first use, then kept.
  auto doc = std::make_shared<std::pair<std::once_flag, std::string>>();
  r.add("GET", "/openapi.json", {"openapi", "This contract as OpenAPI 3", {200}, "", "", {}},
        [&r, doc](const request&, const params&, responder done) {
          std::call_once(doc->first, [&] { doc->second = openapi_document(r); });
          done(json(200, doc->second));
        });
}

} // namespace bookstore::http
