#pragma once

// A small Prometheus registry: counters, gauges and histograms on atomics, rendered in the text
// exposition format. Series are created once (under a lock) and then updated lock-free; callers
// keep the reference they get.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bookstore::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
public:
  void inc(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

class gauge {
public:
  void add(int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

class histogram {
public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double x) noexcept;
  uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /// Cumulative count of observations <= bounds()[i].
  uint64_t cumulative(size_t i) const noexcept;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0}; // sum in millionths, kept integral for atomics
};

/// Bucket bounds for request and commit latencies, in seconds.
const std::vector<double>& latency_buckets();

class registry {
public:
  counter& get_counter(const std::string& name, const std::string& help, const labels& ls = {});
  gauge& get_gauge(const std::string& name, const std::string& help, const labels& ls = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           const std::vector<double>& bounds, const labels& ls = {});
  /// The whole registry in Prometheus text format 0.0.4.
  std::string render() const;

private:
  struct family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<counter>> counters;
    std::map<std::string, std::unique_ptr<gauge>> gauges;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
  };
  family& fam(const std::string& name, const std::string& help, const char* type);
  mutable std::mutex mtx_;
  std::map<std::string, family> families_;
};

/// The process-wide registry served at /metrics.
registry& global();

} // namespace bookstore::metrics
