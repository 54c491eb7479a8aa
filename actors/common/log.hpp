#pragma once

// JSON log lines: {"ts","lvl","node","comp","rid","msg"}. spdlog 1.10 has no MDC, so the request
// id travels inside the payload (before a 0x1f separator) and a custom flag splits it out.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace bookstore::log {

/// Sets the node id printed on every line and the level ("info", "debug", ...).
void init(const std::string& node_id, const std::string& level);

/// The logger of one component ("gateway", "persistence", ...); created on first use.
std::shared_ptr<spdlog::logger> get(const std::string& component);

template <class... Ts>
void write(spdlog::logger& lg, spdlog::level::level_enum lvl, std::string_view rid,
           fmt::format_string<Ts...> fmt, Ts&&... xs) {
  if (lg.should_log(lvl))
    lg.log(lvl, "{}\x1f{}", rid, fmt::format(fmt, std::forward<Ts>(xs)...));
}

template <class... Ts>
void info(spdlog::logger& lg, std::string_view rid, fmt::format_string<Ts...> f, Ts&&... xs) {
  write(lg, spdlog::level::info, rid, f, std::forward<Ts>(xs)...);
}

template <class... Ts>
void warn(spdlog::logger& lg, std::string_view rid, fmt::format_string<Ts...> f, Ts&&... xs) {
  write(lg, spdlog::level::warn, rid, f, std::forward<Ts>(xs)...);
}

template <class... Ts>
void error(spdlog::logger& lg, std::string_view rid, fmt::format_string<Ts...> f, Ts&&... xs) {
  write(lg, spdlog::level::err, rid, f, std::forward<Ts>(xs)...);
}

template <class... Ts>
void debug(spdlog::logger& lg, std::string_view rid, fmt::format_string<Ts...> f, Ts&&... xs) {
  write(lg, spdlog::level::debug, rid, f, std::forward<Ts>(xs)...);
}

} // namespace bookstore::log
