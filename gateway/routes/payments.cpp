#include "actors/common/crypto.hpp"
#include "actors/common/ids.hpp"
#include "actors/common/time.hpp"
#include "gateway/errors.hpp"
#include "gateway/request_body.hpp"
#include "gateway/routes/routes.hpp"

#include <nlohmann/json.hpp>

namespace bookstore::http {

namespace {

constexpr int64_t signature_tolerance_s = 300;

/// Checks `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` over "<t>.<raw body>"; "" when valid,
/// else why not.
std::string check_signature(const std::string& header, const std::string& body,
                            const std::string& secret, int64_t now_s) {
  if (secret.empty())
    return "webhooks are not configured (payments.webhook-secret)";
  std::string t;
  std::vector<std::string> v1;
  size_t start = 0;
  while (start <= header.size()) {
    auto comma = header.find(',', start);
    auto part = header.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto eq = part.find('=');
    if (eq != std::string::npos) {
      auto k = part.substr(0, eq);
      auto v = part.substr(eq + 1);
      if (k == "t")
        t = v;
      else if (k == "v1")
        v1.push_back(v);
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (t.empty() || t.size() > 12 || t.find_first_not_of("0123456789") != std::string::npos
      || v1.empty())
    return "Stripe-Signature must be t=<unix time>,v1=<signature>";
  auto ts = std::stoll(t);
  if (ts < now_s - signature_tolerance_s || ts > now_s + signature_tolerance_s)
    return "the signature's timestamp is more than 300 s off";
  auto expected = crypto::hmac_sha256_hex(secret, t + "." + body);
  for (auto& sig : v1)
    if (crypto::equal(sig, expected))
      return {};
  return "the signature does not match";
}

response received() {
  return json(200, R"({"received":true})");
}

/// Stripe's event as a provider_event for our payment intent; nullopt for events about nothing
/// of ours (acknowledged and ignored, as Stripe expects).
std::optional<provider_event> event_of(const nlohmann::json& ev, const request& req) {
  auto type = ev.value("type", std::string{});
  auto id = ev.value("id", std::string{});
  if (id.empty() || !ev.contains("data") || !ev["data"].is_object()
      || !ev["data"].contains("object") || !ev["data"]["object"].is_object())
    return std::nullopt;
  auto& obj = ev["data"]["object"];
  provider_event out;
  out.ctx = context_of(req);
  out.event_id = id;
  if (type == "payment_intent.succeeded") {
    out.kind = "succeeded";
    out.provider_ref = obj.value("id", std::string{});
  } else if (type == "payment_intent.payment_failed") {
    out.kind = "failed";
    out.provider_ref = obj.value("id", std::string{});
    if (obj.contains("last_payment_error") && obj["last_payment_error"].is_object())
      out.decline_code = obj["last_payment_error"].value("decline_code", std::string{});
  } else if (type == "charge.refunded") {
    out.kind = "refunded";
    out.provider_ref = obj.value("payment_intent", std::string{});
  } else {
    return std::nullopt;
  }
  if (obj.contains("metadata") && obj["metadata"].is_object())
    out.payment_id = obj["metadata"].value("payment_id", std::string{});
  if (!ids::well_formed(out.payment_id, "pi"))
    return std::nullopt;
  return out;
}

void webhook(backend& be, const request& req, const std::string& secret, responder done) {
  if (auto why = check_signature(req.stripe_signature, req.body, secret, unix_ms_now() / 1000);
      !why.empty())
    return done(invalid("Stripe-Signature", why, req.request_id));
  nlohmann::json ev;
  try {
    ev = nlohmann::json::parse(req.body);
  } catch (const std::exception&) {
    return done(error_response(400, "invalid_request", "the event is not JSON", req.request_id));
  }
  if (!ev.is_object())
    return done(error_response(400, "invalid_request", "the event must be an object",
                               req.request_id));
  auto msg = event_of(ev, req);
  if (!msg)
    return done(received());
  be.ask(std::move(*msg), [rid = req.request_id, done = std::move(done)](outcome<payment_view> o) {
    // Not durable: answer 5xx so that Stripe delivers the event again.
    if (!o)
      return done(from_error(o.error, rid));
    done(received());
  });
}

void set_fault(backend& be, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto mode = read_string(*obj, "payment_provider", 1, 10, err);
  if (!mode || (*mode != "ok" && *mode != "down" && *mode != "slow"))
    return done(invalid("payment_provider", "payment_provider must be down, slow or ok",
                        req.request_id));
  audit(be, req, "faults.set", "payment_provider", "{\"payment_provider\":\"" + *mode + "\"}");
  be.ask(set_provider_fault{*mode}, [rid = req.request_id, mode = *mode,
                                     done = std::move(done)](outcome<bool> o) {
    if (!o)
      return done(from_error(o.error, rid));
    done(json(200, "{\"payment_provider\":\"" + mode + "\"}"));
  });
}

} // namespace

void add_payment_routes(router& r, backend& be, std::string webhook_secret, bool faults_enabled) {
  r.add("POST", "/v1/webhooks/payments",
        {"paymentWebhook", "Stripe-format payment events, signed (Stripe-Signature)",
         {200, 400, 413, 415, 429, 503}, "", "", {}, ""},
        [&be, secret = std::move(webhook_secret)](const request& req, const params&,
                                                  responder done) {
          webhook(be, req, secret, std::move(done));
        });
  if (faults_enabled)
    r.add("POST", "/v1/admin/faults",
          {"setFaults", "Inject faults (drills and tests; only where faults.enabled)",
           {200, 400, 401, 403, 415, 429}, "Faults", "", {}, "operator"},
          [&be](const request& req, const params&, responder done) {
            set_fault(be, req, std::move(done));
          });
}

} // namespace bookstore::http
