#define CAF_SUITE gate
#include <caf/test/unit_test.hpp>

#include "gateway/auth/gate.hpp"

#include <string>

using namespace bookstore;
using namespace bookstore::auth;
using namespace std::chrono_literals;

namespace {

constexpr int64_t now = 1'800'000'000;

redis_settings no_redis() {
  redis_settings r;
  r.host = "127.0.0.1";
  r.port = 1; // revocations are never started here: only local revocations count
  r.prefix = "gatetest";
  return r;
}

struct fixture {
  revocations revoked{no_redis(), 900s};
  gate g{settings({}), revoked, nullptr};

  static gate_settings settings(std::vector<std::string> proxies) {
    gate_settings cfg;
    cfg.jwt_secret = "gate-test-secret-0123456789abcdef";
    cfg.access_ttl = 900s;
    cfg.trusted_proxies = std::move(proxies);
    return cfg;
  }

  std::string token() {
    return g.issue(login_grant{"usr_alice", {"customer"}, "ses_alice000001", "unused"}, now);
  }

  verdict auth(const std::string& header, int64_t at = now) {
    http::caller who;
    return g.authenticate(header, at, who);
  }
};

} // namespace

CAF_TEST(forwarded for is ignored from a peer that is not a trusted proxy) {
  revocations r{no_redis(), 900s};
  gate g{fixture::settings({"127.0.0.1"}), r, nullptr};
  CAF_CHECK_EQUAL(g.client_ip("198.51.100.4", "203.0.113.7"), "198.51.100.4");
  gate no_proxies{fixture::settings({}), r, nullptr};
  CAF_CHECK_EQUAL(no_proxies.client_ip("127.0.0.1", "203.0.113.7"), "127.0.0.1");
  CAF_CHECK_EQUAL(g.client_ip("127.0.0.1", ""), "127.0.0.1");
}

CAF_TEST(behind trusted proxies the client is the right most untrusted hop) {
  revocations r{no_redis(), 900s};
  gate one{fixture::settings({"127.0.0.1"}), r, nullptr};
  CAF_CHECK_EQUAL(one.client_ip("127.0.0.1", "203.0.113.7"), "203.0.113.7");
  // A client can put anything on the left; only the hop our proxy added counts.
  CAF_CHECK_EQUAL(one.client_ip("127.0.0.1", "1.2.3.4, 203.0.113.7"), "203.0.113.7");
  CAF_CHECK_EQUAL(one.client_ip("127.0.0.1", "203.0.113.7, 10.0.0.1"), "10.0.0.1");
  gate two{fixture::settings({"127.0.0.1", "10.0.0.1"}), r, nullptr};
  CAF_CHECK_EQUAL(two.client_ip("127.0.0.1", "203.0.113.7, 10.0.0.1"), "203.0.113.7");
  CAF_CHECK_EQUAL(two.client_ip("127.0.0.1", "203.0.113.7,10.0.0.1"), "203.0.113.7");
  CAF_CHECK_EQUAL(two.client_ip("::ffff:127.0.0.1", "203.0.113.7"), "203.0.113.7");
}

CAF_TEST(a malformed hop stops the walk) {
  revocations r{no_redis(), 900s};
  gate two{fixture::settings({"127.0.0.1", "10.0.0.1"}), r, nullptr};
  // The spoofed address left of the garbage is never believed.
  CAF_CHECK_EQUAL(two.client_ip("127.0.0.1", "203.0.113.7, not-an-ip"), "127.0.0.1");
  CAF_CHECK_EQUAL(two.client_ip("127.0.0.1", "203.0.113.7, unknown, 10.0.0.1"), "10.0.0.1");
  CAF_CHECK_EQUAL(two.client_ip("127.0.0.1", "203.0.113.7, , 10.0.0.1"), "10.0.0.1");
  CAF_CHECK_EQUAL(two.client_ip("127.0.0.1", "203.0.113.7:4711"), "127.0.0.1");
}

CAF_TEST(an ipv6 network shares one budget and answers not counted only peek) {
  revocations r{no_redis(), 900s};
  rate_limit_settings rl;
  rl.limit = 2;
  rl.window = std::chrono::minutes(1);
  rate_limiter limiter{rl, no_redis()};
  gate g{fixture::settings({}), r, &limiter};
  auto t = int64_t{1'800'000'000'000};
  auto peeked = g.peek("2001:db8::1", t);
  CAF_CHECK_EQUAL(peeked.remaining, 2);
  CAF_CHECK(g.limit("2001:db8::1", t).allowed);
  CAF_CHECK(g.limit("2001:db8::ffff:2", t).allowed); // same /64
  auto third = g.limit("2001:db8::3", t);
  CAF_CHECK(!third.allowed);
  CAF_CHECK(g.limit("2001:db8:0:1::1", t).allowed); // another /64
  auto after = g.peek("203.0.113.9", t);
  CAF_CHECK_EQUAL(after.remaining, 2);
  CAF_CHECK(g.limit("203.0.113.9", t).allowed);
}

CAF_TEST_FIXTURE_SCOPE(gate_auth_tests, fixture)

CAF_TEST(a request without authorization is missing a token) {
  CAF_CHECK(auth("") == verdict::missing);
}

CAF_TEST(other schemes and broken tokens are invalid) {
  CAF_CHECK(auth("Basic x") == verdict::invalid);
  CAF_CHECK(auth("Basic dXNyOnB3") == verdict::invalid);
  CAF_CHECK(auth("Bearer") == verdict::invalid);
  CAF_CHECK(auth("Bearer ") == verdict::invalid);
  CAF_CHECK(auth("Bearer not.a.token") == verdict::invalid);
  CAF_CHECK(auth(token()) == verdict::invalid); // the scheme is required
}

CAF_TEST(an issued token authenticates with its claims) {
  auto t = token();
  http::caller who;
  CAF_REQUIRE(g.authenticate("Bearer " + t, now + 1, who) == verdict::ok);
  CAF_CHECK_EQUAL(who.user_id, "usr_alice");
  CAF_CHECK_EQUAL(who.session_id, "ses_alice000001");
  CAF_CHECK_EQUAL(who.roles, std::vector<std::string>{"customer"});
  CAF_CHECK_EQUAL(who.token_exp, now + 900);
  CAF_CHECK_EQUAL(who.token, t);
  CAF_CHECK_EQUAL(who.jti.rfind("jti_", 0), 0u);
  CAF_CHECK_EQUAL(g.access_ttl_s(), 900);
  CAF_CHECK(auth("bearer " + t) == verdict::ok); // the scheme is case-insensitive
}

CAF_TEST(each issued token has its own id) {
  http::caller a;
  http::caller b;
  CAF_REQUIRE(g.authenticate("Bearer " + token(), now, a) == verdict::ok);
  CAF_REQUIRE(g.authenticate("Bearer " + token(), now, b) == verdict::ok);
  CAF_CHECK_NOT_EQUAL(a.jti, b.jti);
}

CAF_TEST(a token stops working when it expires even after it was seen) {
  auto header = "Bearer " + token();
  CAF_CHECK(auth(header, now + 899) == verdict::ok); // verified once, then remembered
  CAF_CHECK(auth(header, now + 900) == verdict::invalid);
  CAF_CHECK(auth(header, now + 5000) == verdict::invalid);
}

CAF_TEST(a revoked session is refused even with a token seen before) {
  auto header = "Bearer " + token();
  CAF_REQUIRE(auth(header) == verdict::ok);
  g.revoke("ses_alice000001", "", now + 900);
  CAF_CHECK(auth(header) == verdict::revoked);
  auto fresh = "Bearer " + token(); // a new token of the same session is no better
  CAF_CHECK(auth(fresh) == verdict::revoked);
  CAF_CHECK(revoked.revoked("ses_alice000001", "", now + 899));
  auto other = g.issue(login_grant{"usr_bob", {"customer"}, "ses_bob00000001", "unused"}, now);
  CAF_CHECK(auth("Bearer " + other) == verdict::ok);
}

CAF_TEST(revoking one token leaves the rest of the session working) {
  http::caller who;
  auto first = token();
  CAF_REQUIRE(g.authenticate("Bearer " + first, now, who) == verdict::ok);
  revoked.revoke("", who.jti, now + 900);
  CAF_CHECK(auth("Bearer " + first) == verdict::revoked);
  CAF_CHECK(auth("Bearer " + token()) == verdict::ok);
}

CAF_TEST(a token signed by another gate is invalid) {
  revocations r{no_redis(), 900s};
  auto cfg = fixture::settings({});
  cfg.jwt_secret = "some-other-secret-0123456789abcdef";
  gate other{cfg, r, nullptr};
  auto foreign = other.issue(login_grant{"usr_alice", {"admin"}, "ses_alice000001", ""}, now);
  CAF_CHECK(auth("Bearer " + foreign) == verdict::invalid);
}

CAF_TEST(without a limiter every request passes) {
  CAF_CHECK(!g.limits());
  auto d = g.limit("203.0.113.7", now * 1000);
  CAF_CHECK(d.allowed);
}

CAF_TEST_FIXTURE_SCOPE_END()
