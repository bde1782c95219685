// XChaCha20-Poly1305 (IETF) sealing with a key ring, and key rings parsed from config.
#include <sodium.h>

#include <algorithm>

#include "platform/crypto/crypto.h"
#include "platform/crypto/sodium_init.h"

namespace emporium::crypto {
namespace {

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A kid is written in front of ciphertexts and config entries, separated by ':' and ','.
bool ValidKid(std::string_view kid) {
  if (kid.empty() || kid.size() > 64) return false;
  for (char c : kid) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Aead> Aead::Create(std::map<std::string, std::string> keys, std::string primary_kid) {
  internal::EnsureSodium();
  for (const auto& [kid, key] : keys) {
    if (!ValidKid(kid)) return InvalidArgument("invalid key id \"" + kid + "\"");
    if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
      return InvalidArgument("key \"" + kid + "\" must be 32 bytes");
    }
  }
  if (keys.find(primary_kid) == keys.end())
    return InvalidArgument("primary key \"" + primary_kid + "\" is not in the key ring");
  Aead aead;
  aead.keys_ = std::move(keys);
  aead.primary_ = std::move(primary_kid);
  return aead;
}

Result<std::string> Aead::Seal(std::string_view plaintext, std::string_view context) const {
  auto key_it = keys_.find(primary_);
  if (key_it == keys_.end()) return FailedPrecondition("Aead used without keys (build it with Aead::Create)");
  const std::string& key = key_it->second;
  std::string nonce = RandomBytes(kNonceBytes);
  std::string sealed(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  std::copy(nonce.begin(), nonce.end(), out);
  unsigned long long ct_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + kNonceBytes, &ct_len, Bytes(plaintext),
                                                 plaintext.size(), Bytes(context), context.size(), nullptr,
                                                 Bytes(nonce), Bytes(key)) != 0) {
    return Internal("encryption failed");
  }
  sealed.resize(kNonceBytes + ct_len);
  return primary_ + ":" + Base64UrlEncode(sealed);
}

Result<std::string> Aead::Open(std::string_view ciphertext, std::string_view context) const {
  size_t colon = ciphertext.find(':');
  if (colon == std::string_view::npos || colon == 0) return InvalidArgument("ciphertext has no key id");
  std::string_view kid = ciphertext.substr(0, colon);
  auto decoded = Base64UrlDecode(ciphertext.substr(colon + 1));
  if (!decoded.ok()) return InvalidArgument("ciphertext is not base64url");
  const std::string& sealed = decoded.value();
  if (sealed.size() < kNonceBytes + kTagBytes) return InvalidArgument("ciphertext too short");
  auto it = keys_.find(std::string(kid));
  if (it == keys_.end()) return NotFound("no key with id \"" + std::string(kid) + "\"");
  std::string plain(sealed.size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long plain_len = 0;
  std::string_view sv = sealed;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plain_len,
                                                 nullptr, Bytes(sv.substr(kNonceBytes)),
                                                 sv.size() - kNonceBytes, Bytes(context), context.size(),
                                                 Bytes(sv.substr(0, kNonceBytes)), Bytes(it->second)) != 0) {
    return PermissionDenied("ciphertext failed authentication (tampered, or another context)");
  }
  plain.resize(plain_len);
  return plain;
}

Result<KeyRing> ParseKeyRing(std::string_view spec, size_t key_bytes) {
  KeyRing ring;
  spec = Trim(spec);
  if (spec.empty()) return InvalidArgument("key ring is empty");
  size_t index = 0;
  while (!spec.empty()) {
    ++index;
    size_t comma = spec.find(',');
    std::string_view entry = Trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    std::string where = "key ring entry " + std::to_string(index);
    size_t colon = entry.find(':');
    std::string kid = colon == std::string_view::npos ? "k1" : std::string(Trim(entry.substr(0, colon)));
    std::string_view encoded = colon == std::string_view::npos ? entry : Trim(entry.substr(colon + 1));
    if (colon == std::string_view::npos && index > 1) return InvalidArgument(where + " has no key id");
    if (!ValidKid(kid)) return InvalidArgument(where + " has an invalid key id");
    auto key = Base64UrlDecode(encoded);
    if (!key.ok()) return InvalidArgument(where + " (\"" + kid + "\") is not base64url");
    if (key->size() != key_bytes) {
      return InvalidArgument(where + " (\"" + kid + "\") must decode to " + std::to_string(key_bytes) +
                             " bytes");
    }
    if (!ring.keys.emplace(kid, std::move(key).value()).second) {
      return InvalidArgument(where + " repeats key id \"" + kid + "\"");
    }
    if (ring.primary_kid.empty()) ring.primary_kid = kid;
  }
  return ring;
}

std::string FormatKeyRingEntry(std::string_view kid, std::string_view key) {
  return std::string(kid) + ":" + Base64UrlEncode(key);
}

}  // namespace emporium::crypto
