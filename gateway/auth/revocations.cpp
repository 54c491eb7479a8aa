#include "gateway/auth/revocations.hpp"

#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "persistence/redis/redis_client.hpp"

#include <hiredis/hiredis.h>

namespace bookstore::auth {

namespace {

constexpr auto retry_delay = std::chrono::seconds(1);
constexpr int block_ms = 500;
constexpr size_t stream_cap = 100000;

} // namespace

revocations::revocations(redis_settings redis, std::chrono::seconds horizon)
  : redis_(std::move(redis)), horizon_(horizon) {}

revocations::~revocations() {
  {
    std::lock_guard<std::mutex> guard{queue_mtx_};
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable())
    writer_.join();
  if (follower_.joinable())
    follower_.join();
}

void revocations::start() {
  writer_ = std::thread{[this] { write_loop(); }};
  follower_ = std::thread{[this] { follow_loop(); }};
}

bool revocations::revoked(const std::string& sid, const std::string& jti, int64_t now_s) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  if (auto it = sids_.find(sid); it != sids_.end() && it->second > now_s)
    return true;
  if (auto it = jtis_.find(jti); it != jtis_.end() && it->second > now_s)
    return true;
  return false;
}

void revocations::remember(const item& x) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  auto keep = [](auto& map, const std::string& key, int64_t until) {
    if (key.empty())
      return;
    auto& v = map[key];
    v = std::max(v, until);
  };
  keep(sids_, x.sid, x.until_s);
  keep(jtis_, x.jti, x.until_s);
  // Forget what can no longer matter, now and then (tokens of those sessions have expired).
  if (++inserts_ % 1024 == 0) {
    auto now = unix_ms_now() / 1000;
    for (auto* map : {&sids_, &jtis_})
      for (auto it = map->begin(); it != map->end();)
        it = it->second <= now ? map->erase(it) : std::next(it);
  }
}

void revocations::revoke(const std::string& sid, const std::string& jti, int64_t until_s) {
  item x{sid, jti, until_s};
  remember(x);
  {
    std::lock_guard<std::mutex> guard{queue_mtx_};
    queue_.push_back(std::move(x));
  }
  queue_cv_.notify_one();
}

void revocations::write_loop() {
  auto lg = log::get("gateway");
  redis::client conn{redis_.host, redis_.port, redis_.timeout};
  std::unique_lock<std::mutex> lock{queue_mtx_};
  while (!stopping_) {
    if (queue_.empty()) {
      queue_cv_.wait(lock);
      continue;
    }
    auto x = queue_.front();
    lock.unlock();
    bool ok = true;
    try {
      auto now = unix_ms_now() / 1000;
      auto ttl = std::to_string(std::max<int64_t>(1, x.until_s - now));
      if (!x.sid.empty())
        conn.command({"SET", redis_.prefix + ":revoked:sid:" + x.sid, "1", "EX", ttl});
      if (!x.jti.empty())
        conn.command({"SET", redis_.prefix + ":revoked:jti:" + x.jti, "1", "EX", ttl});
      conn.command({"XADD", redis_.prefix + ":revocations", "MAXLEN", "~",
                    std::to_string(stream_cap), "*", "sid", x.sid, "jti", x.jti, "until",
                    std::to_string(x.until_s)});
    } catch (const redis::io_error& e) {
      ok = false;
      log::warn(*lg, "-", "revocation not yet in Redis (will retry): {}", e.what());
    }
    lock.lock();
    if (ok) {
      queue_.pop_front();
    } else {
      queue_cv_.wait_for(lock, retry_delay, [this] { return stopping_; });
    }
  }
}

void revocations::follow_loop() {
  auto lg = log::get("gateway");
  // The socket timeout must outlast the server-side block.
  redis::client conn{redis_.host, redis_.port,
                     redis_.timeout + std::chrono::milliseconds(block_ms)};
  // Stream ids start with the Unix ms they were added at: begin one token lifetime ago.
  auto last = std::to_string(unix_ms_now() - horizon_.count() * 1000) + "-0";
  auto stream = redis_.prefix + ":revocations";
  bool warned = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{queue_mtx_};
      if (stopping_)
        return;
    }
    try {
      auto r = conn.command({"XREAD", "COUNT", "1000", "BLOCK", std::to_string(block_ms),
                             "STREAMS", stream, last});
      warned = false;
      if (r.is_error()) {
        log::warn(*lg, "-", "XREAD of revocations failed: {}", r.text());
        std::unique_lock<std::mutex> lock{queue_mtx_};
        queue_cv_.wait_for(lock, retry_delay, [this] { return stopping_; });
        continue;
      }
      auto* top = r.ptr.get();
      if (top == nullptr || top->type != REDIS_REPLY_ARRAY)
        continue; // nil: nothing new within the block time
      for (size_t s = 0; s < top->elements; ++s) {
        auto* entries = top->element[s]->element[1];
        for (size_t i = 0; i < entries->elements; ++i) {
          auto* e = entries->element[i];
          last = std::string{e->element[0]->str, e->element[0]->len};
          auto* fields = e->element[1];
          item x;
          for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            std::string k{fields->element[f]->str, fields->element[f]->len};
            std::string v{fields->element[f + 1]->str, fields->element[f + 1]->len};
            if (k == "sid")
              x.sid = v;
            else if (k == "jti")
              x.jti = v;
            else if (k == "until")
              x.until_s = std::strtoll(v.c_str(), nullptr, 10);
          }
          remember(x);
        }
      }
    } catch (const redis::io_error& e) {
      if (!warned)
        log::warn(*lg, "-", "cannot follow revocations in Redis: {}", e.what());
      warned = true;
      std::unique_lock<std::mutex> lock{queue_mtx_};
      queue_cv_.wait_for(lock, retry_delay, [this] { return stopping_; });
    }
  }
}

} // namespace bookstore::auth
