#include "actors/common/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace bookstore::metrics {

histogram::histogram(std::vector<double> upper_bounds)
  : bounds_(std::move(upper_bounds)),
    buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size())) {
  for (size_t i = 0; i < bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double x) noexcept {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (x <= bounds_[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  if (x > 0)
    sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(x * 1e6)), std::memory_order_relaxed);
}

double histogram::sum() const noexcept {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

uint64_t histogram::cumulative(size_t i) const noexcept {
  uint64_t total = 0;
  for (size_t j = 0; j <= i && j < bounds_.size(); ++j)
    total += buckets_[j].load(std::memory_order_relaxed);
  return total;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string label_text(const labels& ls) {
  std::string out;
  for (auto& [k, v] : ls) {
    out += out.empty() ? "" : ",";
    out += k + "=\"" + escape_label(v) + "\"";
  }
  return out;
}

std::string number(double x) {
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::string with(const std::string& lbl, const std::string& extra) {
  if (lbl.empty())
    return "{" + extra + "}";
  return "{" + lbl + "," + extra + "}";
}

std::string braces(const std::string& lbl) {
  return lbl.empty() ? std::string{} : "{" + lbl + "}";
}

} // namespace

registry::family& registry::fam(const std::string& name, const std::string& help,
                                const char* type) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.help = help;
    f.type = type;
  }
  return f;
}

counter& registry::get_counter(const std::string& name, const std::string& help,
                               const labels& ls) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = fam(name, help, "counter").counters[label_text(ls)];
  if (!slot)
    slot = std::make_unique<counter>();
  return *slot;
}

gauge& registry::get_gauge(const std::string& name, const std::string& help, const labels& ls) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = fam(name, help, "gauge").gauges[label_text(ls)];
  if (!slot)
    slot = std::make_unique<gauge>();
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help,
                                   const std::vector<double>& bounds, const labels& ls) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = fam(name, help, "histogram").histograms[label_text(ls)];
  if (!slot)
    slot = std::make_unique<histogram>(bounds);
  return *slot;
}

std::string registry::render() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string out;
  out.reserve(16 * 1024);
  for (auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (auto& [lbl, c] : f.counters)
      out += name + braces(lbl) + " " + std::to_string(c->value()) + "\n";
    for (auto& [lbl, g] : f.gauges)
      out += name + braces(lbl) + " " + std::to_string(g->value()) + "\n";
    for (auto& [lbl, h] : f.histograms) {
      for (size_t i = 0; i < h->bounds().size(); ++i)
        out += name + "_bucket" + with(lbl, "le=\"" + number(h->bounds()[i]) + "\"") + " "
               + std::to_string(h->cumulative(i)) + "\n";
      out += name + "_bucket" + with(lbl, "le=\"+Inf\"") + " " + std::to_string(h->count())
             + "\n";
      out += name + "_sum" + braces(lbl) + " " + number(h->sum()) + "\n";
      out += name + "_count" + braces(lbl) + " " + std::to_string(h->count()) + "\n";
    }
  }
  return out;
}

registry& global() {
  static registry instance;
  return instance;
}

} // namespace bookstore::metrics
