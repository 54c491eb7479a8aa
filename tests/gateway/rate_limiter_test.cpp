#define CAF_SUITE rate_limiter
#include <caf/test/unit_test.hpp>

#include "gateway/auth/rate_limiter.hpp"

#include <cstdlib>
#include <random>
#include <string>

using namespace bookstore::auth;
using namespace std::chrono_literals;

namespace {

// The start of a 60-second window.
constexpr int64_t t0 = 1'800'000'000'000 / 60'000 * 60'000;

rate_limit_settings settings(int64_t limit) {
  rate_limit_settings cfg;
  cfg.limit = limit;
  cfg.window = 60s;
  return cfg;
}

/// Redis from BOOKSTORE_TEST_REDIS (host:port), with a prefix no other run shares.
redis_settings test_redis() {
  redis_settings r;
  std::string addr =
      std::getenv("BOOKSTORE_TEST_REDIS") ? std::getenv("BOOKSTORE_TEST_REDIS") : "127.0.0.1:6379";
  auto colon = addr.rfind(':');
  r.host = addr.substr(0, colon);
  r.port = static_cast<uint16_t>(std::stoi(addr.substr(colon + 1)));
  std::random_device rd;
  r.prefix = "rltest" + std::to_string(std::uniform_int_distribution<uint64_t>{}(rd));
  return r;
}

/// Nothing listens on port 1: every exchange with "Redis" fails at once.
redis_settings closed_redis() {
  redis_settings r;
  r.host = "127.0.0.1";
  r.port = 1;
  r.timeout = 200ms;
  r.prefix = "rltestclosed";
  return r;
}

} // namespace

CAF_TEST(requests within the limit pass and the next is refused until the window ends) {
  rate_limiter rl{settings(3), closed_redis()};
  for (int64_t left : {2, 1, 0}) {
    auto d = rl.check("203.0.113.7", t0 + 1000);
    CAF_CHECK(d.allowed);
    CAF_CHECK_EQUAL(d.limit, 3);
    CAF_CHECK_EQUAL(d.remaining, left);
  }
  auto refused = rl.check("203.0.113.7", t0 + 1000);
  CAF_CHECK(!refused.allowed);
  CAF_CHECK_EQUAL(refused.remaining, 0);
  CAF_CHECK_EQUAL(refused.retry_after_s, 59); // the window ends at t0 + 60 s
  auto last_ms = rl.check("203.0.113.7", t0 + 59'999);
  CAF_CHECK(!last_ms.allowed);
  CAF_CHECK_EQUAL(last_ms.retry_after_s, 1); // never 0: "retry now" would be a lie
}

CAF_TEST(retry after always lies within the window) {
  rate_limiter rl{settings(1), closed_redis()};
  rl.check("203.0.113.7", t0);
  for (int64_t offset : {0, 1, 500, 30'000, 59'001, 59'999}) {
    auto d = rl.check("203.0.113.7", t0 + offset);
    CAF_CHECK(!d.allowed);
    CAF_CHECK_GREATER_OR_EQUAL(d.retry_after_s, 1);
    CAF_CHECK_LESS_OR_EQUAL(d.retry_after_s, 60);
  }
}

CAF_TEST(each client address has its own budget) {
  rate_limiter rl{settings(3), closed_redis()};
  for (int i = 0; i < 4; ++i) rl.check("203.0.113.7", t0);
  auto other = rl.check("198.51.100.4", t0);
  CAF_CHECK(other.allowed);
  CAF_CHECK_EQUAL(other.remaining, 2);
  auto first = rl.check("203.0.113.7", t0);
  CAF_CHECK(!first.allowed);
}

CAF_TEST(a new window starts with a full budget) {
  rate_limiter rl{settings(3), closed_redis()};
  for (int i = 0; i < 3; ++i) rl.check("203.0.113.7", t0 + 59'000);
  auto before = rl.check("203.0.113.7", t0 + 59'999);
  CAF_CHECK(!before.allowed);
  auto after = rl.check("203.0.113.7", t0 + 60'000);
  CAF_CHECK(after.allowed);
  CAF_CHECK_EQUAL(after.remaining, 2);
}

CAF_TEST(nodes sharing redis share one budget) {
  auto redis = test_redis();
  rate_limiter a{settings(4), redis};
  rate_limiter b{settings(4), redis};
  const std::string ip = "203.0.113.7";
  CAF_CHECK(a.check(ip, t0 + 100).allowed);
  CAF_CHECK(a.check(ip, t0 + 100).allowed);
  CAF_REQUIRE(a.sync_once(t0 + 150)); // Redis: 2
  CAF_CHECK(b.check(ip, t0 + 200).allowed);
  auto b_second = b.check(ip, t0 + 200);
  CAF_CHECK(b_second.allowed);
  CAF_CHECK_EQUAL(b_second.remaining, 2); // b only knows its own two so far
  CAF_REQUIRE(b.sync_once(t0 + 250));     // Redis: 4, and b learns it
  auto b_third = b.check(ip, t0 + 300);
  CAF_CHECK(!b_third.allowed);
  // a has counted nothing since its last sync; a sync must still tell it what the others did.
  CAF_REQUIRE(a.sync_once(t0 + 350));
  auto a_third = a.check(ip, t0 + 400);
  CAF_CHECK(!a_third.allowed);
  // Another address is not affected.
  CAF_CHECK(a.check("198.51.100.4", t0 + 400).allowed);
}

CAF_TEST(counts reach redis once and are not pushed twice) {
  auto redis = test_redis();
  rate_limiter a{settings(5), redis};
  rate_limiter b{settings(5), redis};
  const std::string ip = "203.0.113.7";
  a.check(ip, t0);
  CAF_REQUIRE(a.sync_once(t0 + 10));
  CAF_REQUIRE(a.sync_once(t0 + 20)); // nothing new: Redis stays at 1
  CAF_REQUIRE(a.sync_once(t0 + 30));
  b.check(ip, t0 + 40);
  CAF_REQUIRE(b.sync_once(t0 + 50)); // Redis: 2
  auto d = b.check(ip, t0 + 60);
  CAF_CHECK(d.allowed);
  CAF_CHECK_EQUAL(d.remaining, 2); // 5 - (2 known + this one)
}

CAF_TEST(without redis each node still enforces the limit) {
  rate_limiter rl{settings(3), closed_redis()};
  const std::string ip = "203.0.113.7";
  rl.check(ip, t0);
  rl.check(ip, t0);
  CAF_CHECK(!rl.sync_once(t0 + 10));
  auto third = rl.check(ip, t0 + 20);
  CAF_CHECK(third.allowed);
  CAF_CHECK_EQUAL(third.remaining, 0); // counts that could not be pushed still count
  CAF_CHECK(!rl.check(ip, t0 + 30).allowed);
  CAF_CHECK(!rl.sync_once(t0 + 2000)); // retried after the back-off, still down
  CAF_CHECK(!rl.check(ip, t0 + 2010).allowed);
  CAF_CHECK(rl.check("198.51.100.4", t0 + 2010).allowed);
}
