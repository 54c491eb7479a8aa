#pragma once

// Stripe's REST API over HTTPS (libcurl): PaymentIntents create/confirm/capture/cancel and
// Refunds, form-encoded, `Idempotency-Key` on every POST. Blocking: the provider service runs it
// on worker threads of its own.

#include "actors/protocol/payments.hpp"

#include <chrono>
#include <string>

namespace bookstore::stripe {

struct config {
  std::string base_url = "https://api.stripe.com";
  std::string secret_key;
  std::chrono::milliseconds timeout{30000};
};

/// Makes `call` and says what came of it ("error" with a reason for transport failures, 5xx and
/// 429; "declined" with Stripe's decline code for card errors).
provider_result execute(const config& cfg, const provider_call& call);

/// Payment intents created since `since_ms` (paged through), in our words.
provider_payments list(const config& cfg, int64_t since_ms);

} // namespace bookstore::stripe
