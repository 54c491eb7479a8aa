#pragma once

// order: the entity of one order, running the checkout saga (actors/protocol/orders.hpp draws
// it). It only decides; the checkout service (actors/orders/checkout.hpp) carries out each step
// and reports back with an order_event. A step is handed out after the transition that leads to
// it is durable (on_durable), again on activation (crash recovery), and again when its attempt
// times out or its backoff ends (wake_at / on_wake).
//
// Reached only through the orders region (actors/orders/order_region.hpp); the runtime that
// hosts it is actors/entity/entity_shard.hpp.

#include "actors/common/service_ref.hpp"
#include "actors/entity/settings.hpp"
#include "actors/orders/order_state.hpp"
#include "actors/protocol/orders.hpp"

#include <caf/expected.hpp>

namespace bookstore {

struct order {
  using state_type = order_state;
  using actor_type = order_actor;
  using commands = entity::command_list<entity::command<place_order, order_view>,
                                        entity::command<get_order, order_view>,
                                        entity::command<cancel_order, order_view>,
                                        entity::command<refund_order, order_view>,
                                        entity::command<ship_order, order_view>,
                                        entity::command<review_order, order_view>,
                                        entity::command<anonymise_order, order_view>,
                                        entity::command<order_event, order_view>>;

  struct settings {
    /// A step not reported back by then is handed out again (next attempt).
    int64_t step_timeout_ms = 30000;
    /// Backoff after a failed attempt: base * 2^(attempt-1), at most `retry_max_ms`.
    int64_t retry_base_ms = 500;
    int64_t retry_max_ms = 60000;
    /// An order waiting for its payment this long gives up (payment_failed).
    int64_t pending_limit_ms = 3600 * 1000;
    /// Orders over this total (minor units) from an IP new for the user go to manual review.
    int64_t review_threshold = 50000;
    /// Carries out the steps; may be empty (tests drive the events themselves).
    service_ref<checkout_actor> checkout;
  };

  static constexpr const char* entity_type = "order";
  /// The owner of orders whose account was purged.
  static constexpr const char* deleted_user = "usr_deleted";
  static constexpr int32_t schema_version = 1;

  template <class Msg>
  static const std::string& id_of(const Msg& msg) {
    return msg.order_id;
  }

  /// A key is nearly always fresh: placing activates an absent order without loading it first
  /// (its first write proves it new; see "Unverified activations" in entity_shard.hpp).
  static bool assume_new(const place_order&) { return true; }

  static caf::expected<order_view> handle(state_type& st, const place_order& msg, entity::env& e,
                                          const settings& cfg);
  static caf::expected<order_view> handle(state_type& st, const get_order& msg, entity::env& e,
                                          const settings& cfg);
  static caf::expected<order_view> handle(state_type& st, const cancel_order& msg,
                                          entity::env& e, const settings& cfg);
  static caf::expected<order_view> handle(state_type& st, const refund_order& msg,
                                          entity::env& e, const settings& cfg);
  static caf::expected<order_view> handle(state_type& st, const ship_order& msg, entity::env& e,
                                          const settings& cfg);
  static caf::expected<order_view> handle(state_type& st, const review_order& msg,
                                          entity::env& e, const settings& cfg);
  static caf::expected<order_view> handle(state_type& st, const anonymise_order& msg,
                                          entity::env& e, const settings& cfg);
  static caf::expected<order_view> handle(state_type& st, const order_event& msg,
                                          entity::env& e, const settings& cfg);

  /// When the current attempt times out or its backoff ends (0 = nothing to do on its own).
  static int64_t wake_at(const state_type& st);
  /// Starts the next attempt of a step that timed out or waited out its backoff.
  static void on_wake(state_type& st, entity::env& e, const settings& cfg);

  /// Hands the current step, if there is one to take now, to the checkout service.
  template <class Self>
  static void on_durable(Self* self, const std::string& id, const state_type& st, int64_t,
                         const settings& cfg) {
    if (st.user_id.empty() || !active(st.step) || st.retry_at != 0)
      return;
    if (auto c = cfg.checkout.get())
      self->send(c, step_of(id, st, cfg));
  }

  /// The order's row of the order index, written with its snapshot, except while the first
  /// attempt of its reserve or pay step runs (order_index.hpp).
  static order_listing listing(const state_type& st);

  template <class Self>
  static void on_dropped(Self*, const std::string&, const settings&) {}

  /// Whether `step` is work for the checkout service (not "done" or "await_review").
  static bool active(const std::string& step);
  static order_step step_of(const std::string& id, const state_type& st, const settings& cfg);
  static order_view view(const std::string& id, const state_type& st);
};

} // namespace bookstore
