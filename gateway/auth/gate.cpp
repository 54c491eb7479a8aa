#include "gateway/auth/gate.hpp"

#include "actors/common/ids.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace bookstore::auth {

namespace {

constexpr size_t cache_capacity = 65536;

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string{s};
}

/// The address in canonical form, or empty if `s` is not an IP address.
std::string canonical_ip(const std::string& s) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(s, ec);
  if (ec)
    return {};
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

} // namespace

gate::gate(gate_settings cfg, revocations& revoked, rate_limiter* limiter)
  : cfg_(std::move(cfg)), codec_(cfg_.jwt_secret), revoked_(revoked), limiter_(limiter) {
  for (auto& p : cfg_.trusted_proxies) p = canonical_ip(p);
}

std::string gate::client_ip(const std::string& peer, const std::string& forwarded_for) const {
  auto trusted = [this](const std::string& ip) {
    return std::find(cfg_.trusted_proxies.begin(), cfg_.trusted_proxies.end(), ip)
           != cfg_.trusted_proxies.end();
  };
  if (cfg_.trusted_proxies.empty())
    return peer; // already canonical: the server formats the socket's address
  auto ip = canonical_ip(peer);
  if (ip.empty() || !trusted(ip) || forwarded_for.empty())
    return ip.empty() ? peer : ip;
  // Walk from the nearest hop: each trusted proxy vouches for the one before it; the first
  // address no trusted proxy added is the client. A malformed entry ends the walk there.
  std::string_view rest{forwarded_for};
  while (!rest.empty()) {
    auto comma = rest.rfind(',');
    auto hop = canonical_ip(trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
    if (hop.empty())
      return ip;
    ip = hop;
    if (!trusted(hop))
      return hop;
    if (comma == std::string_view::npos)
      break;
    rest = rest.substr(0, comma);
  }
  return ip;
}

namespace {

/// What the budget is kept for: the address, but a whole IPv6 /64 (one subscriber's network),
/// or a client would get a budget per address of its /64.
std::string budget_key(const std::string& ip) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(ip, ec);
  if (ec || !a.is_v6())
    return ip;
  auto bytes = a.to_v6().to_bytes();
  for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return boost::asio::ip::address_v6{bytes}.to_string() + "/64";
}

} // namespace

rate_decision gate::limit(const std::string& ip, int64_t now_ms) {
  if (limiter_ == nullptr)
    return rate_decision{true, 0, 0, 0};
  return limiter_->check(budget_key(ip), now_ms);
}

rate_decision gate::peek(const std::string& ip, int64_t now_ms) {
  if (limiter_ == nullptr)
    return rate_decision{true, 0, 0, 0};
  return limiter_->peek(budget_key(ip), now_ms);
}

verdict gate::authenticate(const std::string& authorization, int64_t now_s, http::caller& out) {
  if (authorization.empty())
    return verdict::missing;
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size()
      || !std::equal(scheme.begin(), scheme.end(), authorization.begin(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a))
                              == std::tolower(static_cast<unsigned char>(b));
                     }))
    return verdict::invalid;
  auto token = trim(std::string_view{authorization}.substr(scheme.size()));
  claims c;
  bool found = false;
  {
    std::lock_guard<std::mutex> guard{cache_mtx_};
    if (auto it = cache_.find(token); it != cache_.end()) {
      c = it->second;
      found = true;
    }
  }
  if (!found) {
    auto verified = codec_.verify(token, now_s);
    if (!verified)
      return verdict::invalid;
    c = std::move(*verified);
    std::lock_guard<std::mutex> guard{cache_mtx_};
    if (cache_.size() >= cache_capacity)
      cache_.clear();
    cache_.emplace(token, c);
  }
  if (c.exp <= now_s)
    return verdict::invalid;
  if (revoked_.revoked(c.sid, c.jti, now_s))
    return verdict::revoked;
  out.user_id = std::move(c.sub);
  out.session_id = std::move(c.sid);
  out.roles = std::move(c.roles);
  out.jti = std::move(c.jti);
  out.token_exp = c.exp;
  out.token = std::move(token);
  return verdict::ok;
}

std::string gate::issue(const login_grant& grant, int64_t now_s) const {
  claims c;
  c.sub = grant.user_id;
  c.sid = grant.session_id;
  c.roles = grant.roles;
  c.jti = ids::make("jti");
  c.iat = now_s;
  c.exp = now_s + cfg_.access_ttl.count();
  return codec_.sign(c);
}

void gate::revoke(const std::string& sid, const std::string& jti, int64_t until_s) {
  revoked_.revoke(sid, jti, until_s);
}

} // namespace bookstore::auth
