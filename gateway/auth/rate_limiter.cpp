#include "gateway/auth/rate_limiter.hpp"

#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "persistence/redis/redis_client.hpp"

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

rate_decision rate_limiter::check(const std::string& ip, int64_t now_ms) {
  auto window_ms = cfg_.window.count();
  auto window = now_ms / window_ms;
  rate_decision d;
  d.limit = cfg_.limit;
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = entries_[ip];
  if (e.window != window)
    e = entry{window, 0, 0};
  auto used = e.known + e.unsynced;
  if (used >= cfg_.limit) {
    d.allowed = false;
    d.remaining = 0;
    auto ends = (window + 1) * window_ms;
    d.retry_after_s = std::max<int64_t>(1, (ends - now_ms + 999) / 1000);
    return d;
  }
  e.unsynced += 1;
  d.remaining = std::max<int64_t>(0, cfg_.limit - used - 1);
  return d;
}

bool rate_limiter::sync_once(int64_t now_ms) {
  struct push {
    std::string ip;
    int64_t window;
    int64_t delta;
    int64_t total = -1;
  };
  std::vector<push> batch;
  auto current = now_ms / cfg_.window.count();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.window < current) {
        it = entries_.erase(it); // a past window: nothing left to decide with it
        continue;
      }
      // Also the addresses with nothing new here (INCRBY 0): their total may have grown on
      // other nodes.
      batch.push_back(push{it->first, it->second.window, it->second.unsynced});
      ++it;
    }
  }
  if (batch.empty())
    return true;
  if (now_ms < conn_->retry_at_ms)
    return false;
  auto ttl_ms = std::to_string(cfg_.window.count() * 2);
  try {
    // One round trip for every address: INCRBY and PEXPIRE of each, pipelined.
    std::vector<std::vector<std::string>> commands;
    commands.reserve(batch.size() * 2);
    for (auto& p : batch) {
      auto key = redis_.prefix + ":rl:" + std::to_string(p.window) + ":" + p.ip;
      commands.push_back({"INCRBY", key, std::to_string(p.delta)});
      commands.push_back({"PEXPIRE", key, ttl_ms});
    }
    auto replies = conn_->client.pipeline(commands);
    for (size_t i = 0; i < batch.size(); ++i) {
      auto& r = replies[2 * i];
      if (r.is_error())
        throw redis::io_error{r.text()};
      batch[i].total = r.integer();
    }
    conn_->warned = false;
  } catch (const redis::io_error& e) {
    conn_->retry_at_ms = now_ms + retry_after_failure_ms;
    if (!conn_->warned)
      log::warn(*log::get("gateway"), "-", "rate limits are per node until Redis is back: {}",
                e.what());
    conn_->warned = true;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  bool all = true;
  for (auto& p : batch) {
    if (p.total < 0) {
      all = false;
      continue; // not pushed: still counted locally, pushed next time
    }
    auto it = entries_.find(p.ip);
    if (it == entries_.end() || it->second.window != p.window)
      continue;
    it->second.unsynced -= p.delta;
    it->second.known = std::max(it->second.known, p.total);
  }
  return all;
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
