#include "gateway/server.hpp"

#include "actors/common/ids.hpp"
#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "gateway/errors.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

namespace bookstore::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// Concrete executor types: Beast's default any_io_executor type-erases every dispatch, which
// showed up in profiles of the hot path.
using strand_type = net::strand<net::io_context::executor_type>;
using socket_type = tcp::socket::rebind_executor<strand_type>::other;
using stream_type = beast::basic_stream<tcp, strand_type>;

constexpr auto write_timeout = std::chrono::seconds(30);
// After an error that leaves a request half read (413, 431, 400), the rest of what the client
// sends is read and dropped for a while before closing: closing with unread input makes the
// kernel reset the connection, and a client still sending its body would never see the answer.
constexpr auto linger_timeout = std::chrono::seconds(2);
constexpr size_t linger_limit = 64 * 1024 * 1024;
constexpr auto accept_retry_delay = std::chrono::milliseconds(50);
const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

/// The Date header, formatted once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local std::string value;
  auto now = std::time(nullptr);
  if (now != cached_at) {
    cached_at = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    value = buf;
  }
  return value;
}

/// One connection. do_/on_ pairs; every handler runs on the connection's strand.
class session : public std::enable_shared_from_this<session> {
public:
  session(socket_type&& socket, const server_settings& cfg,
          std::shared_ptr<const request_handler> handler)
    : stream_(std::move(socket)), cfg_(cfg), handler_(std::move(handler)) {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      auto a = peer.address();
      // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: they are IPv4 clients.
      if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
      peer_ip_ = a.to_string();
    }
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(cfg_.header_limit));
    // The largest limit any path has; on_header narrows it once the path is known.
    parser_->body_limit(std::max(cfg_.body_limit, cfg_.upload_limit));
    // An idle keep-alive connection (or a client that stalls mid-request) is closed.
    stream_.expires_after(cfg_.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    if (ec)
      return fail(ec);
    limit_ = limit_for(parser_->get().target());
    parser_->body_limit(limit_);
    if (auto announced = parser_->content_length(); announced && *announced > limit_)
      return fail(bhttp::error::body_limit);
    if (parser_->is_done())
      return dispatch_request();
    if (parser_->get().version() >= 11
        && beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
      // The body fits (an announced oversize body already failed with body_limit): ask for it.
      net::async_write(stream_, net::buffer(continue_line),
                       [self = shared_from_this()](beast::error_code ec2, size_t) {
                         if (ec2)
                           return self->close();
                         self->do_read_body();
                       });
      return;
    }
    do_read_body();
  }

  void do_read_body() {
    stream_.expires_after(cfg_.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec)
                          return self->fail(ec);
                        self->dispatch_request();
                      });
  }

  /// Errors come first, each with its answer; the connection closes after any of them.
  void fail(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message
        || ec == beast::error::timeout || ec == net::error::operation_aborted
        || ec == net::error::connection_reset || ec == net::error::eof
        || ec == net::error::broken_pipe)
      return close(); // the client left or went quiet: nobody to answer
    auto rid = request_id_from_header();
    if (ec == bhttp::error::body_limit)
      return write_error(error_response(413, "payload_too_large",
                                        "the body is over the limit of "
                                          + std::to_string(limit_) + " bytes",
                                        rid),
                         rid);
    if (ec == bhttp::error::header_limit)
      return write_error(error_response(431, "invalid_request",
                                        "the request line and headers are over "
                                          + std::to_string(cfg_.header_limit) + " bytes",
                                        rid),
                         rid);
    write_error(error_response(400, "invalid_request", "malformed HTTP request", rid), rid);
  }

  /// Uploads (avatars) may be larger than JSON bodies.
  size_t limit_for(beast::string_view target) const {
    auto path = target.substr(0, target.find('?'));
    for (auto& p : cfg_.upload_paths)
      if (path == beast::string_view{p})
        return cfg_.upload_limit;
    return cfg_.body_limit;
  }

  std::string request_id_from_header() {
    if (parser_ && parser_->is_header_done()) {
      auto given = parser_->get()["X-Request-Id"];
      std::string_view id{given.data(), given.size()};
      if (ids::valid_request_id(id))
        return std::string{id};
    }
    return ids::make_request_id();
  }

  void write_error(response res, const std::string& rid) {
    res.headers.emplace_back("X-Request-Id", rid);
    close_after_ = true; // the rest of the request is unread: the connection cannot go on
    write(std::move(res));
  }

  void dispatch_request() {
    auto& msg = parser_->get();
    request req;
    req.method = std::string{msg.method_string()};
    std::string_view target{msg.target().data(), msg.target().size()};
    auto q = target.find('?');
    req.path = std::string{target.substr(0, q)};
    if (q != std::string_view::npos)
      req.query = std::string{target.substr(q + 1)};
    auto ct = msg[bhttp::field::content_type];
    req.content_type = std::string{ct.data(), ct.size()};
    auto announced = parser_->content_length();
    req.has_body = !msg.body().empty() || (announced && *announced > 0) || parser_->chunked();
    req.body = std::move(msg.body());
    req.request_id = request_id_from_header();
    req.peer_ip = peer_ip_;
    auto authz = msg[bhttp::field::authorization];
    req.authorization = std::string{authz.data(), authz.size()};
    // Every X-Forwarded-For line, in order: a proxy may add its own line after the client's.
    for (auto range = msg.equal_range("X-Forwarded-For"); range.first != range.second;
         ++range.first) {
      auto v = range.first->value();
      if (!req.forwarded_for.empty())
        req.forwarded_for += ", ";
      req.forwarded_for.append(v.data(), v.size());
    }
    if (auto it = msg.find("Idempotency-Key"); it != msg.end()) {
      req.has_idempotency_key = true;
      req.idempotency_key = std::string{it->value().data(), it->value().size()};
    }
    if (auto it = msg.find("Stripe-Signature"); it != msg.end())
      req.stripe_signature = std::string{it->value().data(), it->value().size()};
    req.deadline_ms = unix_ms_now() + cfg_.request_timeout.count();
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    stream_.expires_never(); // the deadline is the actors' business now
    auto self = shared_from_this();
    auto reply = [self](response res) {
      // From any thread (usually a CAF worker): back onto this connection's strand.
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
    };
    try {
      (*handler_)(std::move(req), std::move(reply));
    } catch (const std::exception& e) {
      log::error(*log::get("gateway"), "-", "request handler threw: {}", e.what());
      auto rid = ids::make_request_id();
      write_error(error_response(500, "internal", "internal error", rid), rid);
    }
  }

  void write(response res) {
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(res.status), version_ == 0 ? 11 : version_);
    msg->set(bhttp::field::content_type, res.content_type);
    msg->set(bhttp::field::date, http_date());
    for (auto& [name, value] : res.headers) msg->insert(name, value);
    msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive_ && !close_after_);
    msg->prepare_payload();
    res_ = msg;
    stream_.expires_after(write_timeout);
    bhttp::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    if (ec)
      return close();
    if (close_after_)
      return linger();
    if (res_->need_eof())
      return close();
    res_.reset();
    do_read();
  }

  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_ = std::make_unique<std::array<char, 8192>>();
    stream_.expires_after(linger_timeout);
    do_drain(0);
  }

  void do_drain(size_t total) {
    stream_.async_read_some(net::buffer(*drain_),
                            [self = shared_from_this(), total](beast::error_code ec, size_t n) {
                              if (ec || total + n > linger_limit)
                                return self->close();
                              self->do_drain(total + n);
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  stream_type stream_;
  std::string peer_ip_;
  size_t limit_ = 0;
  beast::flat_buffer buffer_;
  server_settings cfg_;
  std::shared_ptr<const request_handler> handler_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> res_;
  std::unique_ptr<std::array<char, 8192>> drain_; ///< only while lingering
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool close_after_ = false;
};

} // namespace

struct server::impl {
  server_settings cfg;
  std::shared_ptr<const request_handler> handler;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::steady_timer retry{ioc};
  std::vector<std::thread> threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;

  impl(server_settings s, request_handler h)
    : cfg(std::move(s)),
      handler(std::make_shared<const request_handler>(std::move(h))),
      ioc(static_cast<int>(cfg.threads)) {}

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, socket_type s) {
      if (ec == net::error::operation_aborted)
        return;
      if (ec) {
        // E.g. out of file descriptors: wait a little instead of spinning on the error.
        log::warn(*log::get("gateway"), "-", "accept failed: {}", ec.message());
        retry.expires_after(accept_retry_delay);
        retry.async_wait([this](beast::error_code wec) {
          if (!wec)
            do_accept();
        });
        return;
      }
      beast::error_code ignored;
      s.set_option(tcp::no_delay{true}, ignored);
      std::make_shared<session>(std::move(s), cfg, handler)->start();
      do_accept();
    });
  }
};

server::server(server_settings settings, request_handler handler)
  : impl_(std::make_unique<impl>(std::move(settings), std::move(handler))) {}

server::~server() {
  stop();
}

uint16_t server::start() {
  auto& s = *impl_;
  beast::error_code ec;
  auto address = net::ip::make_address(s.cfg.host, ec);
  if (ec)
    throw std::runtime_error("gateway.host '" + s.cfg.host + "' is not an IP address");
  tcp::endpoint ep{address, s.cfg.port};
  s.acceptor.open(ep.protocol(), ec);
  if (!ec)
    s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    s.acceptor.bind(ep, ec);
  if (!ec)
    s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + s.cfg.host + ":" + std::to_string(s.cfg.port)
                             + ": " + ec.message());
  auto port = s.acceptor.local_endpoint().port();
  s.work.emplace(s.ioc.get_executor());
  s.do_accept();
  for (size_t i = 0; i < std::max<size_t>(1, s.cfg.threads); ++i)
    s.threads.emplace_back([&s] { s.ioc.run(); });
  return port;
}

void server::stop() {
  auto& s = *impl_;
  if (s.threads.empty())
    return;
  net::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

} // namespace bookstore::http
