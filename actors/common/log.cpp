#include "actors/common/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace bookstore::log {

namespace {

std::mutex init_mtx;
std::string node_name = "-";
spdlog::level::level_enum current_level = spdlog::level::info;

void json_escape(std::string_view in, spdlog::memory_buf_t& out) {
  static const char* hex = "0123456789abcdef";
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out.append(std::string_view{"\\\""}); break;
      case '\\': out.append(std::string_view{"\\\\"}); break;
      case '\n': out.append(std::string_view{"\\n"}); break;
      case '\r': out.append(std::string_view{"\\r"}); break;
      case '\t': out.append(std::string_view{"\\t"}); break;
      default:
        if (c < 0x20) {
          char buf[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
          out.append(buf, buf + 6);
        } else {
          out.push_back(ch);
        }
    }
  }
}

// Splits "rid\x1fmessage" as written by log::write; lines from elsewhere have no rid.
std::pair<std::string_view, std::string_view> split(const spdlog::details::log_msg& m) {
  std::string_view p{m.payload.data(), m.payload.size()};
  auto sep = p.find('\x1f');
  if (sep == std::string_view::npos)
    return {std::string_view{"-"}, p};
  return {p.substr(0, sep), p.substr(sep + 1)};
}

class msg_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& m, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    json_escape(split(m).second, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<msg_flag>();
  }
};

class rid_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& m, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    json_escape(split(m).first, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<rid_flag>();
  }
};

std::unique_ptr<spdlog::formatter> json_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  std::string node;
  spdlog::memory_buf_t buf;
  json_escape(node_name, buf);
  node.assign(buf.data(), buf.size());
  f->add_flag<msg_flag>('j').add_flag<rid_flag>('R').set_pattern(
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","lvl":"%l","node":")" + node
    + R"(","comp":"%n","rid":"%R","msg":"%j"})");
  return f;
}

std::shared_ptr<spdlog::sinks::stdout_sink_mt> shared_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  return sink;
}

} // namespace

void init(const std::string& node_id, const std::string& level) {
  std::lock_guard<std::mutex> guard{init_mtx};
  node_name = node_id;
  current_level = spdlog::level::from_str(level);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& lg) {
    lg->set_formatter(json_formatter());
    lg->set_level(current_level);
  });
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  if (auto lg = spdlog::get(component))
    return lg;
  std::lock_guard<std::mutex> guard{init_mtx};
  if (auto lg = spdlog::get(component))
    return lg;
  auto lg = std::make_shared<spdlog::logger>(component, shared_sink());
  lg->set_formatter(json_formatter());
  lg->set_level(current_level);
  lg->flush_on(spdlog::level::warn);
  spdlog::register_logger(lg);
  return lg;
}

} // namespace bookstore::log
