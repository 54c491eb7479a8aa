#include "gateway/auth/rate_limiter.hpp"

#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "persistence/redis/redis_client.hpp"

#include <algorithm>
#include <vector>

namespace bookstore::auth {

struct rate_limiter_conn {
  redis::client client;
  int64_t retry_at_ms = 0; ///< after a failure, Redis is left alone until then
  bool warned = false;
};

namespace {

constexpr int64_t retry_after_failure_ms = 1000;

} // namespace

rate_limiter::rate_limiter(rate_limit_settings cfg, redis_settings redis)
  : cfg_(cfg), redis_(std::move(redis)) {
  conn_.reset(new rate_limiter_conn{redis::client{redis_.host, redis_.port, redis_.timeout}});
}

rate_limiter::~rate_limiter() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (syncer_.joinable())
    syncer_.join();
}

void rate_limiter::start() {
  syncer_ = std::thread{[this] { loop(); }};
}

rate_decision rate_limiter::decide(entry& e, int64_t window, int64_t now_ms, bool count) {
  if (e.window != window)
    e = entry{window, 0, 0, 0, 0};
  rate_decision d;
  d.limit = cfg_.limit;
  auto used = std::max(e.local, e.known + e.unsynced);
  if (used >= cfg_.limit) {
    d.allowed = false;
    auto window_ms = cfg_.window.count();
    d.retry_after_s = std::max<int64_t>(1, ((window + 1) * window_ms - now_ms + 999) / 1000);
    return d;
  }
  if (count) {
    e.unsynced += 1;
    e.local += 1;
    e.last_seen = now_ms;
    used += 1;
  }
  d.remaining = std::max<int64_t>(0, cfg_.limit - used);
  return d;
}

rate_decision rate_limiter::check(const std::string& ip, int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  return decide(entries_[ip], now_ms / cfg_.window.count(), now_ms, true);
}

rate_decision rate_limiter::peek(const std::string& ip, int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(ip);
  entry fresh;
  return decide(it != entries_.end() ? it->second : fresh, now_ms / cfg_.window.count(), now_ms,
                false);
}

bool rate_limiter::sync_once(int64_t now_ms) {
  struct push {
    std::string ip;
    int64_t window;
    int64_t delta;
    int64_t last_seen;
    int64_t total = -1;
  };
  constexpr int64_t active_ms = 1000; // idle longer: its total is learnt on its next request
  std::vector<push> batch;
  auto current = now_ms / cfg_.window.count();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto& e = it->second;
      if (e.window < current) {
        it = entries_.erase(it); // a past window: nothing left to decide with it
        continue;
      }
      if (e.unsynced > 0 || now_ms - e.last_seen <= active_ms)
        batch.push_back(push{it->first, e.window, e.unsynced, e.last_seen});
      ++it;
    }
  }
  if (batch.empty())
    return true;
  if (now_ms < conn_->retry_at_ms)
    return false;
  if (batch.size() > cfg_.max_batch) {
    // The busiest addresses first; the rest wait for the next sync (still counted locally).
    std::partial_sort(batch.begin(), batch.begin() + static_cast<long>(cfg_.max_batch),
                      batch.end(), [](auto& a, auto& b) { return a.delta > b.delta; });
    batch.resize(cfg_.max_batch);
  }
  auto ttl_ms = std::to_string(cfg_.window.count() * 2);
  bool ok = true;
  try {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(batch.size() * 2);
    for (auto& p : batch) {
      auto key = redis_.prefix + ":rl:" + std::to_string(p.window) + ":" + p.ip;
      commands.push_back({"INCRBY", key, std::to_string(p.delta)});
      commands.push_back({"PEXPIRE", key, ttl_ms});
    }
    auto replies = conn_->client.pipeline(commands);
    for (size_t i = 0; i < batch.size(); ++i)
      if (!replies[2 * i].is_error())
        batch[i].total = replies[2 * i].integer();
    conn_->warned = false;
  } catch (const redis::io_error& e) {
    ok = false;
    conn_->retry_at_ms = now_ms + retry_after_failure_ms;
    if (!conn_->warned)
      log::warn(*log::get("gateway"), "-", "rate limits are per node until Redis is back: {}",
                e.what());
    conn_->warned = true;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& p : batch) {
    auto it = entries_.find(p.ip);
    if (it == entries_.end() || it->second.window != p.window)
      continue;
    // Sent is spent: whether or not Redis applied it, it is never sent again (no double
    // counting); the local count keeps the per-node limit either way.
    it->second.unsynced -= p.delta;
    if (p.total >= 0)
      it->second.known = std::max(it->second.known, p.total);
  }
  return ok;
}

void rate_limiter::loop() {
  std::unique_lock<std::mutex> lock{mtx_};
  while (!stopping_) {
    cv_.wait_for(lock, cfg_.sync_interval, [this] { return stopping_; });
    if (stopping_)
      return;
    lock.unlock();
    sync_once(unix_ms_now());
    lock.lock();
  }
}

} // namespace bookstore::auth
