// Hashes, MACs, constant-time comparison and randomness over libsodium.
#include <sodium.h>

#include "platform/crypto/crypto.h"
#include "platform/crypto/sodium_init.h"

namespace emporium::crypto {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Sha256(std::string_view data) {
  internal::EnsureSodium();
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), Bytes(data), data.size());
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  internal::EnsureSodium();
  // The init/update/final form takes keys of any length (hashing long ones, RFC 2104), which
  // the one-shot crypto_auth_hmacsha256 (fixed 32-byte keys) does not.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, Bytes(key), key.size());
  crypto_auth_hmacsha256_update(&state, Bytes(data), data.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  sodium_memzero(&state, sizeof state);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  internal::EnsureSodium();
  // Lengths are not secret here (MACs and hashes have fixed sizes); only the contents are.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(size_t n) {
  internal::EnsureSodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string RandomToken() {
  return Base64UrlEncode(RandomBytes(32));
}

std::string BlindIndex(std::string_view key, std::string_view normalized_value) {
  return HexEncode(HmacSha256(key, normalized_value));
}

}  // namespace emporium::crypto
