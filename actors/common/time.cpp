#include "actors/common/time.hpp"

#include <chrono>
#include <ctime>

namespace bookstore {

int64_t unix_ms_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string rfc3339(int64_t unix_ms) {
  auto secs = static_cast<std::time_t>(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
  std::tm tm{};
  // YYYY-MM-DDTHH:MM:SSZ by hand: strftime was a visible share of rendering an order. Times
  // outside years 0..9999 have no such form.
  auto year = gmtime_r(&secs, &tm) ? tm.tm_year + 1900 : -1;
  if (year < 0 || year > 9999)
    return "0000-01-01T00:00:00Z";
  std::string out = "0000-00-00T00:00:00Z";
  auto two = [&out](size_t at, int v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, year / 100);
  two(2, year % 100);
  two(5, tm.tm_mon + 1);
  two(8, tm.tm_mday);
  two(11, tm.tm_hour);
  two(14, tm.tm_min);
  two(17, tm.tm_sec);
  return out;
}

} // namespace bookstore
