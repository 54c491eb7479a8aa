#pragma once

// Protocol values as the JSON of API.md.

#include "actors/protocol/accounts.hpp"
#include "actors/protocol/catalog.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/protocol/session.hpp"
#include "gateway/json_writer.hpp"

namespace bookstore::http {

void write_book(json_writer& w, const book_view& b);
std::string book_json(const book_view& b);
std::string book_page_json(const book_page& page);
std::string stock_json(const stock_level& lvl);

void write_user(json_writer& w, const user_view& u);
std::string user_json(const user_view& u);

/// {"access_token","refresh_token","token_type":"Bearer","expires_in","session_id"}
std::string tokens_json(const login_grant& g, const std::string& access_token,
                        int64_t expires_in_s);

/// One cart line with what the catalog says of its book now.
struct priced_line {
  std::string book_id;
  std::string title;
  int64_t quantity = 0;
  money unit_price;
};

/// {"items":[{"book_id","title","quantity","unit_price"}],"total":Money}
std::string cart_json(const std::vector<priced_line>& lines);

/// {"profile","orders","sessions","audit","exported_at"}; each session with its cart when
/// `carts` has one for it (live sessions).
std::string export_json(const user_export& x,
                        const std::vector<std::pair<std::string, cart_contents>>& carts,
                        const std::vector<order_view>& orders, int64_t now_ms);

/// API.md's order: id, user_id, status, items, total, shipping_address, payment, shipment,
/// status_history, created_at, updated_at.
void write_order(json_writer& w, const order_view& o);
std::string order_json(const order_view& o);
/// {"items":[order…],"next_cursor"}
std::string order_page_json(const order_page& page);

} // namespace bookstore::http
