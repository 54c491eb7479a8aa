#pragma once

// Per-client-IP request budget in fixed windows (by default 2000 requests per 5 minutes), shared
// by every node through Redis and decided locally, so the hot path never waits for Redis.
//
// Each node counts locally and, every `sync_interval`, adds what it counted to the Redis key
// `<prefix>:rl:<window>:<ip>` (INCRBY; 0 for addresses active in the last second with nothing
// new, so their total from other nodes is learnt too) in one pipelined round trip, at most
// `max_batch` addresses per sync. A decision counts the larger of what this node alone counted
// and the last known total of all nodes plus what this node counted since. If Redis is down
// (or a sync fails half-way; its increments are then taken as applied, so nothing is counted
// twice), the node's own count still holds: a per-node limit until Redis is back.

#include "gateway/auth/revocations.hpp" // redis_settings

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace bookstore::auth {

struct rate_limit_settings {
  int64_t limit = 2000;
  std::chrono::milliseconds window{5 * 60 * 1000};
  std::chrono::milliseconds sync_interval{50};
  size_t max_batch = 2000; ///< addresses per sync (the most active first)
};

struct rate_decision {
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t retry_after_s = 0; ///< when refused: seconds until the window ends (at least 1)
};

class rate_limiter {
public:
  rate_limiter(rate_limit_settings cfg, redis_settings redis);
  ~rate_limiter();
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  /// Starts the sync thread. Without it, the limit is per node.
  void start();

  /// Counts one request of `ip` at `now_ms` and says whether it may go on.
  rate_decision check(const std::string& ip, int64_t now_ms);

  /// What `check` would say, without counting.
  rate_decision peek(const std::string& ip, int64_t now_ms);

  /// One exchange with Redis (the sync thread's loop body; tests call it directly).
  /// False if Redis could not be reached.
  bool sync_once(int64_t now_ms);

private:
  struct entry {
    int64_t window = 0;    ///< window number (now / window length)
    int64_t known = 0;     ///< total of all nodes at the last sync (includes our synced counts)
    int64_t unsynced = 0;  ///< counted here since
    int64_t local = 0;     ///< counted here in this window (the per-node floor)
    int64_t last_seen = 0; ///< Unix ms of the last request
  };
  rate_decision decide(entry& e, int64_t window, int64_t now_ms, bool count);
  void loop();

  rate_limit_settings cfg_;
  redis_settings redis_;
  std::mutex mtx_;
  std::unordered_map<std::string, entry> entries_;
  std::unique_ptr<struct rate_limiter_conn> conn_;
  bool stopping_ = false;
  std::condition_variable cv_;
  std::thread syncer_;
};

} // namespace bookstore::auth
