#pragma once

// Revoked sessions and access tokens, as every node sees them. A revocation is recorded here at
// once (the node that revoked refuses the token from its very next request), written to Redis as
// `<prefix>:revoked:sid:<id>` / `<prefix>:revoked:jti:<id>` keys living as long as the token may,
// and appended to the stream `<prefix>:revocations`, which every node follows with XREAD BLOCK
// and reads back (for the last access-token lifetime) when it starts.
//
// Redis down: revocations made here still hold here, and the session entity refuses a revoked
// session to every route that reaches it; the writes are retried until Redis answers.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace bookstore::auth {

struct redis_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::chrono::milliseconds timeout{500};
  std::string prefix = "bookstore";
};

class revocations {
public:
  /// `horizon`: the longest an access token lives (how far back a starting node reads).
  revocations(redis_settings redis, std::chrono::seconds horizon);
  ~revocations();
  revocations(const revocations&) = delete;
  revocations& operator=(const revocations&) = delete;

  /// Starts following Redis (two threads). Without it, only local revocations count.
  void start();

  /// Whether the session or the token was revoked (and that is still relevant at `now_s`).
  bool revoked(const std::string& sid, const std::string& jti, int64_t now_s) const;

  /// Revokes session `sid` (and token `jti`, if not empty) until `until_s` (Unix seconds).
  void revoke(const std::string& sid, const std::string& jti, int64_t until_s);

private:
  struct item {
    std::string sid;
    std::string jti;
    int64_t until_s = 0;
  };
  void remember(const item& x);
  void write_loop();
  void follow_loop();

  redis_settings redis_;
  std::chrono::seconds horizon_;
  mutable std::shared_mutex mtx_;
  std::unordered_map<std::string, int64_t> sids_; ///< id -> until (Unix s)
  std::unordered_map<std::string, int64_t> jtis_;
  size_t inserts_ = 0;

  std::mutex queue_mtx_;
  std::condition_variable queue_cv_;
  std::deque<item> queue_;
  bool stopping_ = false;
  std::thread writer_;
  std::thread follower_;
};

} // namespace bookstore::auth
