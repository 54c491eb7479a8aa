#include "actors/payments/stripe_client.hpp"

// One provider_call is one to three requests: create the intent (its Idempotency-Key depends
// only on the payment id, so a retry finds the intent it made before instead of making another),
// then the operation itself under the caller's key, then, when Stripe says the intent is not in
// the state the operation expects, a read of where it is. All of it shares one deadline, so a
// call never outlasts the cap the provider service puts on it.

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace bookstore::stripe {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using params = std::vector<std::pair<std::string, std::string>>;

/// Pinned so that the wire format (latest_charge, error fields) cannot change under us.
constexpr const char* api_version = "2024-06-20";
/// Stripe's answers are a few KiB; anything far larger is not Stripe.
constexpr size_t max_answer_bytes = 1 << 20;
constexpr std::chrono::milliseconds max_connect_timeout{5000};
constexpr const char* page_size = "100";

struct answer {
  long status = 0;     ///< HTTP status; 0 when no answer came
  json body;           ///< null when there was none or it was not JSON
  std::string failure; ///< why no usable answer came, else ""
};

size_t on_data(char* data, size_t size, size_t n, void* out) {
  auto& buf = *static_cast<std::string*>(out);
  if (buf.size() + size * n > max_answer_bytes) return 0; // makes curl fail the transfer
  buf.append(data, size * n);
  return size * n;
}

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

/// j[key] when that is an object, else null (a copy: these are small).
json obj(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : json{};
}

int64_t num(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool flag(const json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

CURL* new_handle() {
  // curl_global_init is not thread-safe, and curl_easy_init would call it on first use: the
  // first worker to get here does it for all.
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return curl_easy_init();
}

/// A curl handle and the deadline of the requests made with it (one handle, so the second and
/// third request reuse the first one's connection).
class session {
 public:
  explicit session(const config& cfg) : cfg_(cfg), h_(new_handle(), &curl_easy_cleanup) { renew(); }

  /// A fresh budget of cfg.timeout (one page of a listing).
  void renew() { deadline_ = steady::now() + cfg_.timeout; }

  answer post(const std::string& path, const params& form, const std::string& idempotency_key) {
    return perform(path, encode(form), true, idempotency_key);
  }

  answer get(const std::string& path, const params& query) {
    auto q = encode(query);
    return perform(q.empty() ? path : path + "?" + q, {}, false, {});
  }

  std::string escape(const std::string& s) {
    std::unique_ptr<char, decltype(&curl_free)> out(
        h_ ? curl_easy_escape(h_.get(), s.data(), static_cast<int>(s.size())) : nullptr,
        &curl_free);
    return out ? std::string{out.get()} : std::string{};
  }

 private:
  std::string encode(const params& ps) {
    std::string out;
    for (auto& [k, v] : ps) {
      if (!out.empty()) out += '&';
      out += escape(k) + "=" + escape(v);
    }
    return out;
  }

  answer perform(const std::string& path, const std::string& body, bool post,
                 const std::string& idempotency_key) {
    answer a;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - steady::now());
    if (!h_) {
      a.failure = "cannot start curl";
      return a;
    }
    if (left.count() <= 0) {
      a.failure = "timeout";
      return a;
    }
    auto* h = h_.get();
    curl_easy_reset(h); // keeps the connection cache, forgets the last request's options
    std::string url = cfg_.base_url + path;
    std::string buf;
    curl_slist* raw = nullptr;
    auto add = [&raw](const std::string& line) { raw = curl_slist_append(raw, line.c_str()); };
    add("Authorization: Bearer " + cfg_.secret_key);
    add(std::string{"Stripe-Version: "} + api_version);
    add("Expect:"); // no 100-continue round trip
    if (post) {
      add("Content-Type: application/x-www-form-urlencoded");
      add("Idempotency-Key: " + idempotency_key);
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(raw, &curl_slist_free_all);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    // Worker threads: curl must not use signals for its timeouts.
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(left, max_connect_timeout).count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
    if (post) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    auto rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      // curl's own words name the host at most, never a header.
      a.failure = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(rc);
      return a;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
    a.body = json::parse(buf, nullptr, false);
    if (a.body.is_discarded()) {
      a.body = json{};
      a.failure = "stripe answered " + std::to_string(a.status) + " without JSON";
    }
    return a;
  }

  const config& cfg_;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h_;
  steady::time_point deadline_;
};

bool ok(const answer& a) {
  return a.failure.empty() && a.status >= 200 && a.status < 300;
}

/// A short reason: curl's, or Stripe's status and error code (not its message, which may quote
/// the masked key).
std::string why(const answer& a) {
  if (!a.failure.empty()) return a.failure;
  auto err = obj(a.body, "error");
  auto code = str(err, "code").empty() ? str(err, "type") : str(err, "code");
  return "stripe answered " + std::to_string(a.status) + (code.empty() ? "" : " (" + code + ")");
}

provider_result failed(provider_result r, std::string reason) {
  r.outcome = "error";
  r.error = std::move(reason);
  return r;
}

bool charge_refunded(const json& pi) {
  auto ch = obj(pi, "latest_charge"); // an object only when expanded
  auto amount = num(ch, "amount");
  return flag(ch, "refunded") || (amount > 0 && num(ch, "amount_refunded") >= amount);
}

/// Where an intent is, in provider_result's words ("" when it is still on its way).
std::string outcome_of(const json& pi) {
  auto status = str(pi, "status");
  if (status == "succeeded") return charge_refunded(pi) ? "refunded" : "succeeded";
  if (status == "requires_capture" || status == "canceled") return status;
  if (status == "requires_payment_method" && !obj(pi, "last_payment_error").is_null())
    return "declined";
  return {};
}

std::string decline_code_of(const json& err) {
  auto code = str(err, "decline_code");
  if (code.empty()) code = str(err, "code");
  return code.empty() ? "card_declined" : code;
}

provider_result of_intent(provider_result r, const json& pi) {
  if (auto id = str(pi, "id"); !id.empty()) r.provider_ref = id;
  r.outcome = outcome_of(pi);
  if (r.outcome.empty()) return failed(std::move(r), "payment intent is " + str(pi, "status"));
  if (r.outcome == "declined") r.decline_code = decline_code_of(obj(pi, "last_payment_error"));
  return r;
}

provider_result read_intent(session& s, provider_result r) {
  auto a =
      s.get("/v1/payment_intents/" + s.escape(r.provider_ref), {{"expand[]", "latest_charge"}});
  if (!ok(a)) return failed(std::move(r), why(a));
  return of_intent(std::move(r), a.body);
}

/// The answer to an operation on intent r.provider_ref: its new state, a decline, or (when the
/// intent was elsewhere already, as after a retry) the state Stripe has for it.
provider_result settle(session& s, provider_result r, const answer& a) {
  if (ok(a)) return of_intent(std::move(r), a.body);
  auto err = obj(a.body, "error");
  if (a.failure.empty() && a.status == 402 && str(err, "type") == "card_error") {
    if (auto id = str(obj(err, "payment_intent"), "id"); !id.empty()) r.provider_ref = id;
    r.outcome = "declined";
    r.decline_code = decline_code_of(err);
    return r;
  }
  auto code = str(err, "code");
  if (a.failure.empty() && a.status == 400 &&
      (code == "payment_intent_unexpected_state" || code == "charge_already_refunded" ||
       code == "charge_already_captured"))
    return read_intent(s, std::move(r));
  return failed(std::move(r), why(a));
}

params card_of(const provider_call& c) {
  return {{"payment_method_data[type]", "card"}, {"payment_method_data[card][token]", c.token}};
}

/// Creates the payment's intent, or (same key, same parameters) gets back the one created
/// before; sets r.provider_ref. Answers the intent as it was created.
answer create(session& s, const provider_call& c, provider_result& r) {
  std::string currency = c.amount.currency;
  std::transform(currency.begin(), currency.end(), currency.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  params p{{"amount", std::to_string(c.amount.amount)},
           {"currency", currency},
           {"capture_method", c.manual_capture ? "manual" : "automatic"},
           {"confirm", "false"},
           {"payment_method_types[]", "card"},
           {"metadata[payment_id]", c.payment_id}};
  auto card = card_of(c);
  p.insert(p.end(), card.begin(), card.end());
  auto a = s.post("/v1/payment_intents", p, c.payment_id + ":create");
  if (ok(a)) {
    r.provider_ref = str(a.body, "id");
    if (r.provider_ref.empty()) a.failure = "stripe answered an intent without an id";
  }
  return a;
}

provider_result confirm(session& s, const provider_call& c, provider_result r) {
  auto created = create(s, c, r);
  if (!ok(created)) return failed(std::move(r), why(created));
  auto status = str(created.body, "status");
  if (status != "requires_confirmation" && status != "requires_payment_method")
    return of_intent(std::move(r), created.body);
  // After a decline the card is gone from the intent: the confirmation brings it again.
  auto p = status == "requires_payment_method" ? card_of(c) : params{};
  auto a =
      s.post("/v1/payment_intents/" + s.escape(r.provider_ref) + "/confirm", p, c.idempotency_key);
  return settle(s, std::move(r), a);
}

provider_result change(session& s, const provider_call& c, provider_result r) {
  if (r.provider_ref.empty()) {
    auto created = create(s, c, r);
    if (!ok(created)) return failed(std::move(r), why(created));
  }
  auto path = "/v1/payment_intents/" + s.escape(r.provider_ref);
  if (c.op == "capture")
    return settle(s, std::move(r), s.post(path + "/capture", {}, c.idempotency_key));
  if (c.op == "cancel")
    return settle(s, std::move(r), s.post(path + "/cancel", {}, c.idempotency_key));
  // refund: the answer is a Refund, not the intent.
  auto a = s.post("/v1/refunds", {{"payment_intent", r.provider_ref}}, c.idempotency_key);
  if (!ok(a)) return settle(s, std::move(r), a);
  auto status = str(a.body, "status");
  if (status == "failed" || status == "canceled") return failed(std::move(r), "refund " + status);
  r.outcome = "refunded";
  return r;
}

/// An intent in our words for the reconciler, or "" for one that has not got anywhere yet.
std::string our_status(const json& pi) {
  auto o = outcome_of(pi);
  return o == "declined" ? "failed" : o;
}

} // namespace

provider_result execute(const config& cfg, const provider_call& call) {
  provider_result r;
  r.payment_id = call.payment_id;
  r.call = call.call;
  r.provider_ref = call.provider_ref;
  r.ctx.request_id = call.request_id;
  session s{cfg};
  if (call.op == "confirm") return confirm(s, call, std::move(r));
  if (call.op == "capture" || call.op == "cancel" || call.op == "refund")
    return change(s, call, std::move(r));
  return failed(std::move(r), "unknown operation " + call.op);
}

provider_payments list(const config& cfg, int64_t since_ms) {
  provider_payments out;
  session s{cfg};
  std::string after;
  for (;;) {
    params q{{"created[gte]", std::to_string(since_ms / 1000)},
             {"limit", page_size},
             {"expand[]", "data.latest_charge"}};
    if (!after.empty()) q.emplace_back("starting_after", after);
    s.renew();
    auto a = s.get("/v1/payment_intents", q);
    // No way to say "failed" here: the reconciler acts on what is listed, so a partial list only
    // leaves the rest for its next run.
    if (!ok(a) || !a.body.is_object() || !a.body.contains("data") || !a.body["data"].is_array())
      return out;
    for (auto& pi : a.body["data"]) {
      after = str(pi, "id");
      auto payment_id = str(obj(pi, "metadata"), "payment_id");
      auto status = our_status(pi);
      if (payment_id.empty() || status.empty()) continue; // not ours, or no money moved yet
      provider_payment p;
      p.payment_id = payment_id;
      p.provider_ref = after;
      p.status = status;
      p.amount.amount = num(pi, "amount");
      p.amount.currency = str(pi, "currency");
      std::transform(p.amount.currency.begin(), p.amount.currency.end(), p.amount.currency.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
      p.created_at = num(pi, "created") * 1000;
      out.items.push_back(std::move(p));
    }
    if (!flag(a.body, "has_more") || after.empty()) return out;
  }
}

} // namespace bookstore::stripe
