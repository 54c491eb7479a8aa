#include "actors/session/user_session.hpp"

#include "actors/protocol/errc.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace bookstore {

namespace {

caf::error gone() {
  return make_error(errc::unauthenticated, "", "the session is not valid");
}

/// The session may be used by `ctx.caller` now, or the error that says why not.
caf::error usable(const session_state& st, const request_ctx& ctx, const entity::env& e) {
  if (st.user_id.empty() || st.revoked || (st.expires_at != 0 && st.expires_at <= e.now_ms))
    return gone();
  if (!ctx.caller.empty() && ctx.caller != st.user_id)
    return gone();
  return {};
}

bool same_hash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

cart_contents contents(const session_state& st) {
  cart_contents out;
  out.items.reserve(st.cart.size());
  for (auto& [book, n] : st.cart) out.items.push_back(cart_line{book, n});
  return out;
}

} // namespace

session_view user_session::view(const std::string& id, const state_type& st) {
  return session_view{id,         st.user_id,    st.roles,      st.generation, st.revoked,
                      st.created_at, st.expires_at, st.last_ip, st.mfa};
}

caf::expected<session_view> user_session::handle(state_type& st, const open_session& msg,
                                                 entity::env& e, const settings&) {
  if (!st.user_id.empty())
    return make_error(errc::invalid_state, msg.session_id, "session id in use");
  if (msg.user_id.empty() || msg.refresh_hash.empty())
    return make_error(errc::invalid_request, "", "a session needs a user and a refresh hash");
  st.user_id = msg.user_id;
  st.roles = msg.roles;
  st.refresh_hash = msg.refresh_hash;
  st.created_at = e.now_ms;
  st.expires_at = msg.expires_at;
  st.last_ip = msg.ip;
  st.mfa = msg.mfa;
  e.changed = true;
  return view(msg.session_id, st);
}

caf::expected<session_view> user_session::handle(state_type& st, const refresh_session& msg,
                                                 entity::env& e, const settings& cfg) {
  if (auto err = usable(st, msg.ctx, e))
    return err;
  if (!same_hash(msg.presented_hash, st.refresh_hash)) {
    auto spent = std::any_of(st.spent.begin(), st.spent.end(),
                             [&](auto& h) { return same_hash(h, msg.presented_hash); });
    if (!spent)
      return gone(); // a guess: refuse it, but a stranger must not be able to end the session
    // A spent token came back: someone holds a copy. End the session for both holders.
    st.revoked = true;
    e.changed = true;
    return make_error(errc::unauthenticated, "refresh_reuse",
                      "the refresh token was already used; the session is revoked");
  }
  st.spent.push_back(st.refresh_hash);
  if (st.spent.size() > cfg.spent_memory)
    st.spent.erase(st.spent.begin(), st.spent.end() - static_cast<long>(cfg.spent_memory));
  st.refresh_hash = msg.next_hash;
  st.generation += 1;
  st.last_ip = msg.ip;
  if (msg.expires_at != 0)
    st.expires_at = msg.expires_at;
  e.changed = true;
  return view(msg.session_id, st);
}

caf::expected<session_view> user_session::handle(state_type& st, const end_session& msg,
                                                 entity::env& e, const settings&) {
  if (st.user_id.empty() || (!msg.ctx.caller.empty() && msg.ctx.caller != st.user_id))
    return gone();
  if (!st.revoked || !st.cart.empty()) {
    st.revoked = true;
    st.cart.clear();
    e.changed = true;
  }
  return view(msg.session_id, st);
}

caf::expected<session_view> user_session::handle(state_type& st, const check_session& msg,
                                                 entity::env& e, const settings&) {
  if (auto err = usable(st, msg.ctx, e))
    return err;
  return view(msg.session_id, st);
}

caf::expected<cart_contents> user_session::handle(state_type& st, const get_cart& msg,
                                                  entity::env& e, const settings&) {
  if (auto err = usable(st, msg.ctx, e))
    return err;
  return contents(st);
}

caf::expected<cart_contents> user_session::handle(state_type& st, const set_cart_item& msg,
                                                  entity::env& e, const settings& cfg) {
  if (auto err = usable(st, msg.ctx, e))
    return err;
  if (msg.quantity < 1 || msg.quantity > cfg.max_quantity)
    return make_error(errc::invalid_request, "quantity",
                      "quantity must be an integer in 1.." + std::to_string(cfg.max_quantity));
  if (msg.book_id.empty())
    return make_error(errc::invalid_request, "book_id", "book id is missing");
  auto it = st.cart.find(msg.book_id);
  if (it == st.cart.end() && st.cart.size() >= cfg.max_cart_books)
    return make_error(errc::invalid_request, "quantity",
                      "a cart holds at most " + std::to_string(cfg.max_cart_books) + " books");
  if (it == st.cart.end() || it->second != msg.quantity) {
    st.cart[msg.book_id] = msg.quantity;
    e.changed = true;
  }
  return contents(st);
}

caf::expected<cart_contents> user_session::handle(state_type& st, const remove_cart_item& msg,
                                                  entity::env& e, const settings&) {
  if (auto err = usable(st, msg.ctx, e))
    return err;
  if (st.cart.erase(msg.book_id) != 0)
    e.changed = true;
  return contents(st);
}

caf::expected<cart_contents> user_session::handle(state_type& st, const clear_cart& msg,
                                                  entity::env& e, const settings&) {
  if (auto err = usable(st, msg.ctx, e))
    return err;
  if (!st.cart.empty()) {
    st.cart.clear();
    e.changed = true;
  }
  return contents(st);
}

} // namespace bookstore
