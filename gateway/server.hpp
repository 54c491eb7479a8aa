#pragma once

// The HTTP/1.1 server (Boost.Beast): keep-alive connections on a few Asio threads that never wait
// for an actor. Each connection reads one request, hands it to the handler and reads the next only
// after the answer is written; the answer comes back from any thread and is posted to the
// connection's strand.

#include "gateway/http.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bookstore::http {

struct server_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080; ///< 0 = any free port
  size_t threads = 1;
  std::chrono::milliseconds idle_timeout{60000};    ///< idle keep-alive connections close
  std::chrono::milliseconds request_timeout{5000};  ///< deadline given to each request
  size_t header_limit = 16 * 1024;                  ///< request line + headers
  size_t body_limit = 1024 * 1024;                  ///< JSON bodies
  size_t upload_limit = 2 * 1024 * 1024;            ///< bodies of `upload_paths`
  std::vector<std::string> upload_paths{"/v1/me/avatar"};
};

using request_handler = std::function<void(request, responder)>;

class server {
public:
  server(server_settings settings, request_handler handler);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts the Asio threads; returns the bound port. Throws std::runtime_error.
  uint16_t start();

  /// Stops accepting, closes the Asio threads (pending answers are dropped).
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace bookstore::http
