// Base64url (RFC 4648 §5 without padding, RFC 7515 §2) and hex codecs over libsodium's
// constant-time implementations (the decoded bytes are often secrets).
#include <sodium.h>

#include <cstdlib>

#include "platform/crypto/crypto.h"
#include "platform/crypto/sodium_init.h"

namespace emporium::crypto {
namespace internal {

void EnsureSodium() {
  if (sodium_init() < 0) std::abort();
}

}  // namespace internal

Status Init() {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  return Status::Ok();
}

std::string Base64UrlEncode(std::string_view bytes) {
  internal::EnsureSodium();
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);  // the encoder writes a terminating NUL
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  internal::EnsureSodium();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  // libsodium rejects padding, characters outside the alphabet and non-zero trailing bits, so
  // every byte string has exactly one accepted encoding (no malleable tokens).
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgument("malformed base64url");
  }
  out.resize(len);
  return out;
}

std::string HexEncode(std::string_view bytes) {
  internal::EnsureSodium();
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.resize(out.size() - 1);
  return out;
}

Result<std::string> HexDecode(std::string_view text) {
  internal::EnsureSodium();
  if (text.size() % 2 != 0) return InvalidArgument("malformed hex: odd length");
  std::string out(text.size() / 2, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                     nullptr, &len, &end) != 0 ||
      end != text.data() + text.size() || len != out.size()) {
    return InvalidArgument("malformed hex");
  }
  return out;
}

}  // namespace emporium::crypto
