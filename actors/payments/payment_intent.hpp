#pragma once

// payment_intent: the entity of one payment, mirroring the provider's payment intent (the
// states are drawn in actors/protocol/payments.hpp). It decides which provider call to make; the
// payment_provider service makes it (on_durable hands it over once the decision is durable) and
// answers with provider_result.
//
// Reached only through the payments region (actors/payments/payment_region.hpp).

#include "actors/common/service_ref.hpp"
#include "actors/entity/settings.hpp"
#include "actors/payments/payment_state.hpp"
#include "actors/protocol/payments.hpp"

#include <caf/expected.hpp>

namespace bookstore {

struct payment_intent {
  using state_type = payment_state;
  using actor_type = payment_actor;
  using commands = entity::command_list<entity::command<authorize_payment, payment_view>,
                                        entity::command<capture_payment, payment_view>,
                                        entity::command<cancel_payment, payment_view>,
                                        entity::command<get_payment, payment_view>,
                                        entity::command<provider_event, payment_view>,
                                        entity::command<provider_result, payment_view>>;

  struct settings {
    /// A provider call not answered by then (plus a margin) counts as failed.
    int64_t call_cap_ms = 30000;
    service_ref<provider_actor> provider;
  };

  static constexpr const char* entity_type = "payment_intent";
  static constexpr int32_t schema_version = 1;
  static constexpr size_t event_memory = 32;

  template <class Msg>
  static const std::string& id_of(const Msg& msg) {
    return msg.payment_id;
  }

  /// An order's first payment attempt nearly always finds no payment yet: it activates the
  /// payment without loading it first (see "Unverified activations" in entity_shard.hpp).
  static bool assume_new(const authorize_payment& msg) { return msg.attempt <= 1; }

  static caf::expected<payment_view> handle(state_type& st, const authorize_payment& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<payment_view> handle(state_type& st, const capture_payment& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<payment_view> handle(state_type& st, const cancel_payment& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<payment_view> handle(state_type& st, const get_payment& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<payment_view> handle(state_type& st, const provider_event& msg,
                                            entity::env& e, const settings& cfg);
  static caf::expected<payment_view> handle(state_type& st, const provider_result& msg,
                                            entity::env& e, const settings& cfg);

  /// When the call under way is overdue (0 = no call).
  static int64_t wake_at(const state_type& st);
  static void on_wake(state_type& st, entity::env& e, const settings& cfg);

  /// Hands the call under way to the provider service (it ignores a call it already makes).
  template <class Self>
  static void on_durable(Self* self, const std::string& id, const state_type& st, int64_t,
                         const settings& cfg) {
    if (st.op.empty())
      return;
    if (auto p = cfg.provider.get())
      self->send(p, call_of(id, st));
  }

  template <class Self>
  static void on_dropped(Self*, const std::string&, const settings&) {}

  static provider_call call_of(const std::string& id, const state_type& st);
  static payment_view view(const std::string& id, const state_type& st);
};

} // namespace bookstore
