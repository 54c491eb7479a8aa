#include "actors/payments/stripe_client.hpp"

// Placeholder until the libcurl client lands: every call fails as a transport error.

namespace bookstore::stripe {

provider_result execute(const config&, const provider_call& call) {
  provider_result r;
  r.payment_id = call.payment_id;
  r.call = call.call;
  r.outcome = "error";
  r.error = "the stripe client is not built yet";
  return r;
}

provider_payments list(const config&, int64_t) {
  return {};
}

} // namespace bookstore::stripe
