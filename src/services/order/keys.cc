#include "services/order/keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace emporium::order {
namespace {

Result<std::string> LoadOrCreate(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string spec = ss.str();
    while (!spec.empty() && (spec.back() == '\n' || spec.back() == ' ')) spec.pop_back();
    if (spec.empty()) return FailedPrecondition(path.string() + " is empty");
    return spec;
  }
  std::filesystem::create_directories(path.parent_path(), ec);
  std::string spec = crypto::FormatKeyRingEntry("k1", crypto::RandomBytes(32));
  std::string body = spec + "\n";
  // O_EXCL: two processes racing on first start must not overwrite each other's key.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return LoadOrCreate(path);
    return FailedPrecondition("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return FailedPrecondition("cannot write " + path.string());
  return spec;
}

}  // namespace

Result<OrderKeys> LoadOrderKeys(const std::string& spec_in, bool distributed,
                                const std::filesystem::path& keys_file) {
  std::string spec = spec_in;
  if (spec.empty()) {
    if (distributed)
      return FailedPrecondition(
          "order needs --order-data-key (EMPORIUM_ORDER_DATA_KEY: kid:base64url of 32 random bytes) when "
          "--sql-url "
          "is set");
    EMP_ASSIGN_OR_RETURN(spec, LoadOrCreate(keys_file));
  }
  auto ring = crypto::ParseKeyRing(spec);
  if (!ring.ok()) return InvalidArgument("order-data-key: " + ring.status().message());
  std::string hash_key = crypto::HmacSha256(ring->keys.at(ring->primary_kid), "order request hash");
  EMP_ASSIGN_OR_RETURN(crypto::Aead aead, crypto::Aead::Create(ring->keys, ring->primary_kid));
  return OrderKeys{std::move(aead), std::move(hash_key)};
}

}  // namespace emporium::order
