#include "services/identity/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "platform/core/json.h"

namespace emporium::identity {
namespace {

constexpr size_t kKeyBytes = 32;

Result<std::string> DecodeKey(std::string_view text, std::string_view what) {
  auto raw = crypto::Base64UrlDecode(text);
  if (!raw.ok() || raw->size() != kKeyBytes) {
    return InvalidArgument(std::string(what) + " must be base64url (no padding) of 32 bytes");
  }
  return std::move(raw).value();
}

struct DataKeyRing {
  std::map<std::string, std::string> keys;
  std::string primary;
};

Result<DataKeyRing> ParseDataKeys(std::string_view text) {
  DataKeyRing ring;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t colon = item.find(':');
    std::string kid = colon == std::string_view::npos ? "k1" : std::string(item.substr(0, colon));
    std::string_view b64 = colon == std::string_view::npos ? item : item.substr(colon + 1);
    if (kid.empty()) return InvalidArgument("identity-data-key: empty key id");
    EMP_ASSIGN_OR_RETURN(std::string key, DecodeKey(b64, "identity-data-key (key '" + kid + "')"));
    if (ring.primary.empty()) ring.primary = kid;
    ring.keys[kid] = std::move(key);
  }
  if (ring.keys.empty()) return InvalidArgument("identity-data-key is empty");
  return ring;
}

// The generated keys file: {"data_key":"k1:<b64>","index_key":"<b64>"}, created 0600.
Result<std::pair<std::string, std::string>> LoadOrCreateFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = json::Parse(ss.str());
    if (!doc.ok() || !doc->is_object())
      return FailedPrecondition(path.string() + " is not a valid keys file");
    const auto& o = doc->as_object();
    auto d = o.if_contains("data_key");
    auto i = o.if_contains("index_key");
    if (!d || !i || !d->is_string() || !i->is_string()) {
      return FailedPrecondition(path.string() + " lacks data_key or index_key");
    }
    return std::make_pair(std::string(d->as_string()), std::string(i->as_string()));
  }
  std::filesystem::create_directories(path.parent_path(), ec);
  std::string data = "k1:" + crypto::Base64UrlEncode(crypto::RandomBytes(kKeyBytes));
  std::string index = crypto::Base64UrlEncode(crypto::RandomBytes(kKeyBytes));
  std::string body = json::Dump(boost::json::object{{"data_key", data}, {"index_key", index}}) + "\n";
  // O_EXCL: two processes racing on first start must not overwrite each other's keys.
  std::string tmp = path.string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return LoadOrCreateFile(path);
    return FailedPrecondition("cannot create " + tmp + ": " + std::strerror(errno));
  }
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return FailedPrecondition("cannot write " + tmp);
  return std::make_pair(data, index);
}

}  // namespace

Result<DataKeys> LoadDataKeys(const KeySettings& s) {
  std::string data = s.data_key;
  std::string index = s.index_key;
  if (data.empty() || index.empty()) {
    if (s.distributed) {
      return FailedPrecondition(
          "identity needs --identity-data-key and --identity-index-key (EMPORIUM_IDENTITY_DATA_KEY, "
          "EMPORIUM_IDENTITY_INDEX_KEY: base64url of 32 random bytes) when --sql-url is set");
    }
    EMP_ASSIGN_OR_RETURN(auto file, LoadOrCreateFile(s.keys_file));
    if (data.empty()) data = file.first;
    if (index.empty()) index = file.second;
  }
  EMP_ASSIGN_OR_RETURN(DataKeyRing ring, ParseDataKeys(data));
  EMP_ASSIGN_OR_RETURN(std::string index_key, DecodeKey(index, "identity-index-key"));
  EMP_ASSIGN_OR_RETURN(crypto::Aead aead, crypto::Aead::Create(std::move(ring.keys), ring.primary));
  return DataKeys{std::move(aead), std::move(index_key)};
}

}  // namespace emporium::identity
