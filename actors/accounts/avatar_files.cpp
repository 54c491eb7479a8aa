#include "actors/accounts/avatar_files.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace bookstore::avatar_files {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void sync_fd(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0)
    fail("open " + path);
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("fsync " + path);
  }
  ::close(fd);
}

} // namespace

void store(const std::string& dir, const std::string& user_id, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  auto final_path = dir + "/" + user_id;
  // A temp name of its own: two uploads never write into the same file.
  std::string tmp = final_path + ".XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    fail("mkstemp " + tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("fsync " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    fail("rename " + tmp);
  sync_fd(dir, O_RDONLY | O_DIRECTORY);
}

std::optional<std::string> load(const std::string& dir, const std::string& user_id) {
  std::ifstream in{dir + "/" + user_id, std::ios::binary};
  if (!in)
    return std::nullopt;
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

void erase(const std::string& dir, const std::string& user_id) {
  std::error_code ec;
  std::filesystem::remove(dir + "/" + user_id, ec);
}

} // namespace bookstore::avatar_files
