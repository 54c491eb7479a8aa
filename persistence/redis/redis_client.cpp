#include "persistence/redis/redis_client.hpp"

#include <hiredis/hiredis.h>

namespace bookstore::redis {

void reply::deleter::operator()(redisReply* r) const {
  freeReplyObject(r);
}

bool reply::is_error() const {
  return ptr && ptr->type == REDIS_REPLY_ERROR;
}

bool reply::is_nil() const {
  return !ptr || ptr->type == REDIS_REPLY_NIL;
}

std::string reply::text() const {
  if (!ptr || ptr->str == nullptr)
    return {};
  return std::string{ptr->str, ptr->len};
}

int64_t reply::integer() const {
  return ptr && ptr->type == REDIS_REPLY_INTEGER ? ptr->integer : 0;
}

client::client(std::string host, uint16_t port, std::chrono::milliseconds timeout)
  : host_(std::move(host)), port_(port), timeout_(timeout) {}

client::~client() {
  if (ctx_ != nullptr)
    redisFree(ctx_);
}

void client::connect() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  timeval tv{static_cast<time_t>(timeout_.count() / 1000),
             static_cast<suseconds_t>((timeout_.count() % 1000) * 1000)};
  auto* c = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (c == nullptr)
    throw io_error{"cannot allocate a Redis context"};
  if (c->err != 0) {
    std::string why = c->errstr;
    redisFree(c);
    throw io_error{"cannot connect to Redis: " + why};
  }
  redisSetTimeout(c, tv);
  ctx_ = c;
}

reply client::command(const std::vector<std::string>& argv) {
  if (ctx_ == nullptr || ctx_->err != 0)
    connect();
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = redisCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data());
  if (raw == nullptr) {
    std::string why = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    throw io_error{"Redis I/O error: " + why};
  }
  return reply{std::unique_ptr<redisReply, reply::deleter>{static_cast<redisReply*>(raw)}};
}

std::vector<reply> client::pipeline(const std::vector<std::vector<std::string>>& commands) {
  if (ctx_ == nullptr || ctx_->err != 0)
    connect();
  auto broken = [this] {
    std::string why = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    return io_error{"Redis I/O error: " + why};
  };
  for (auto& argv : commands) {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data())
        != REDIS_OK)
      throw broken();
  }
  std::vector<reply> out;
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr)
      throw broken();
    out.push_back(reply{std::unique_ptr<redisReply, reply::deleter>{static_cast<redisReply*>(raw)}});
  }
  return out;
}

} // namespace bookstore::redis
