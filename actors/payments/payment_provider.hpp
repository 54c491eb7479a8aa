#pragma once

// The payment_provider service: makes the provider calls payment_intent entities ask for and
// answers each with a provider_result to the payments region. Two back ends, chosen by
// configuration: `simulated` (in-process, Stripe's test tokens, configurable latency, fault
// injection) and `stripe` (Stripe's REST API; actors/payments/stripe_client.hpp). Both sit
// behind one circuit breaker and one cap on the time a call may take.

#include "actors/common/service_ref.hpp"
#include "actors/protocol/payments.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <string>

namespace bookstore {

struct provider_settings {
  std::string kind = "simulated"; ///< "simulated" or "stripe"
  std::chrono::milliseconds call_cap{30000};
  int64_t breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{10000};
  /// simulated: how long an answer takes normally, and while the "slow" fault is set.
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds slow_latency{10000};
  /// stripe
  std::string stripe_base_url = "https://api.stripe.com";
  std::string stripe_secret_key;
  size_t stripe_threads = 4;
  /// Where answers go.
  service_ref<payment_actor> payments;
};

provider_actor spawn_payment_provider(caf::event_based_actor* parent, provider_settings settings);
provider_actor make_payment_provider(caf::actor_system& sys, provider_settings settings);

} // namespace bookstore
