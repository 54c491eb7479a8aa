#include "actors/protocol/type_registry.hpp"

#include "actors/protocol/accounts.hpp"
#include "actors/protocol/book_store.hpp"
#include "actors/protocol/catalog.hpp"
#include "actors/protocol/errc.hpp"
#include "actors/protocol/health.hpp"
#include "actors/protocol/inventory.hpp"
#include "actors/protocol/order_index.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/protocol/payments.hpp"
#include "actors/protocol/session.hpp"
#include "actors/protocol/snapshot_store.hpp"

#include <caf/actor_system_config.hpp>

namespace bookstore {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<request_ctx>("request_ctx")
    .add_message_type<wake_entity>("wake_entity")
    // inventory
    .add_message_type<stock_level>("stock_level")
    .add_message_type<get_stock>("get_stock")
    .add_message_type<adjust_stock>("adjust_stock")
    .add_message_type<reserve_stock>("reserve_stock")
    .add_message_type<commit_reservation>("commit_reservation")
    .add_message_type<release_reservation>("release_reservation")
    .add_message_type<stock_forgotten>("stock_forgotten")
    .add_message_type<return_stock>("return_stock")
    // orders
    .add_message_type<order_line>("order_line")
    .add_message_type<std::vector<order_line>>("std::vector<order_line>")
    .add_message_type<shipping_address>("shipping_address")
    .add_message_type<status_change>("status_change")
    .add_message_type<std::vector<status_change>>("std::vector<status_change>")
    .add_message_type<order_view>("order_view")
    .add_message_type<std::vector<order_view>>("std::vector<order_view>")
    .add_message_type<place_order>("place_order")
    .add_message_type<get_order>("get_order")
    .add_message_type<cancel_order>("cancel_order")
    .add_message_type<refund_order>("refund_order")
    .add_message_type<ship_order>("ship_order")
    .add_message_type<review_order>("review_order")
    .add_message_type<anonymise_order>("anonymise_order")
    .add_message_type<order_event>("order_event")
    .add_message_type<order_step>("order_step")
    .add_message_type<list_orders>("list_orders")
    .add_message_type<order_page>("order_page")
    .add_message_type<order_listing>("order_listing")
    .add_message_type<check_ip>("check_ip")
    .add_message_type<query_orders>("query_orders")
    .add_message_type<std::vector<int64_t>>("std::vector<int64_t>")
    .add_message_type<order_refs>("order_refs")
    // payments
    .add_message_type<payment_view>("payment_view")
    .add_message_type<authorize_payment>("authorize_payment")
    .add_message_type<capture_payment>("capture_payment")
    .add_message_type<cancel_payment>("cancel_payment")
    .add_message_type<get_payment>("get_payment")
    .add_message_type<provider_event>("provider_event")
    .add_message_type<provider_result>("provider_result")
    .add_message_type<provider_call>("provider_call")
    .add_message_type<list_provider_payments>("list_provider_payments")
    .add_message_type<provider_payment>("provider_payment")
    .add_message_type<std::vector<provider_payment>>("std::vector<provider_payment>")
    .add_message_type<provider_payments>("provider_payments")
    .add_message_type<set_provider_fault>("set_provider_fault")
    // snapshots
    .add_message_type<snapshot>("snapshot")
    .add_message_type<load_snapshots>("load_snapshots")
    .add_message_type<snapshot_batch>("snapshot_batch")
    .add_message_type<save_snapshots>("save_snapshots")
    .add_message_type<save_result>("save_result")
    .add_message_type<find_due>("find_due")
    .add_message_type<entity_ids>("entity_ids")
    // catalog
    .add_message_type<money>("money")
    .add_message_type<book>("book")
    .add_message_type<book_view>("book_view")
    .add_message_type<book_page>("book_page")
    .add_message_type<book_patch>("book_patch")
    .add_message_type<get_book>("get_book")
    .add_message_type<list_books>("list_books")
    .add_message_type<create_book>("create_book")
    .add_message_type<update_book>("update_book")
    .add_message_type<change_stock>("change_stock")
    .add_message_type<price_books>("price_books")
    .add_message_type<book_price>("book_price")
    .add_message_type<std::vector<book_price>>("std::vector<book_price>")
    .add_message_type<book_prices>("book_prices")
    // book store
    .add_message_type<fetch_book>("fetch_book")
    .add_message_type<query_books>("query_books")
    .add_message_type<book_list>("book_list")
    .add_message_type<insert_book>("insert_book")
    .add_message_type<patch_book>("patch_book")
    // sessions
    .add_message_type<std::vector<std::string>>("std::vector<std::string>")
    .add_message_type<session_view>("session_view")
    .add_message_type<cart_line>("cart_line")
    .add_message_type<std::vector<cart_line>>("std::vector<cart_line>")
    .add_message_type<cart_contents>("cart_contents")
    .add_message_type<open_session>("open_session")
    .add_message_type<refresh_session>("refresh_session")
    .add_message_type<end_session>("end_session")
    .add_message_type<check_session>("check_session")
    .add_message_type<get_cart>("get_cart")
    .add_message_type<set_cart_item>("set_cart_item")
    .add_message_type<remove_cart_item>("remove_cart_item")
    .add_message_type<clear_cart>("clear_cart")
    // accounts
    .add_message_type<user_view>("user_view")
    .add_message_type<login_grant>("login_grant")
    .add_message_type<register_user>("register_user")
    .add_message_type<login_user>("login_user")
    .add_message_type<refresh_login>("refresh_login")
    .add_message_type<get_user>("get_user")
    .add_message_type<update_user>("update_user")
    .add_message_type<setup_mfa>("setup_mfa")
    .add_message_type<mfa_enrollment>("mfa_enrollment")
    .add_message_type<enable_mfa>("enable_mfa")
    .add_message_type<delete_user>("delete_user")
    .add_message_type<deletion_receipt>("deletion_receipt")
    .add_message_type<session_record>("session_record")
    .add_message_type<std::vector<session_record>>("std::vector<session_record>")
    .add_message_type<audit_record>("audit_record")
    .add_message_type<std::vector<audit_record>>("std::vector<audit_record>")
    .add_message_type<export_user>("export_user")
    .add_message_type<user_export>("user_export")
    .add_message_type<avatar>("avatar")
    .add_message_type<put_avatar>("put_avatar")
    .add_message_type<get_avatar>("get_avatar")
    .add_message_type<audit_entry>("audit_entry")
    // health
    .add_message_type<probe_health>("probe_health")
    .add_message_type<health_report>("health_report");
  cfg.add_error_category(caf::atom("bookstore"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto out = std::string{"bookstore:"} + to_string(static_cast<errc>(code));
                           if (!ctx.empty())
                             out += caf::to_string(ctx);
                           return out;
                         });
}

} // namespace bookstore
