#pragma once

// A blocking Redis connection (hiredis 0.14) for one thread: reconnects after an I/O error and
// restores its timeout (redisReconnect drops it).

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct redisContext;
struct redisReply;

namespace bookstore::redis {

/// Redis could not be reached or did not answer in time.
struct io_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A reply, freed with it.
struct reply {
  struct deleter {
    void operator()(redisReply* r) const;
  };
  std::unique_ptr<redisReply, deleter> ptr;

  bool is_error() const;
  bool is_nil() const;
  std::string text() const; ///< string, status or error text
  int64_t integer() const;
};

class client {
public:
  client(std::string host, uint16_t port, std::chrono::milliseconds timeout);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Runs one command (binary-safe arguments). Throws io_error; a Redis error reply is returned.
  reply command(const std::vector<std::string>& argv);

  /// Sends every command, then reads every reply: one round trip. Throws io_error.
  std::vector<reply> pipeline(const std::vector<std::vector<std::string>>& commands);

private:
  void connect();
  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
};

} // namespace bookstore::redis
