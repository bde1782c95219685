// Cryptographic building blocks (libsodium and OpenSSL behind one small API): encodings,
// hashing, constant-time comparison, random tokens, password hashing (argon2id), authenticated
// encryption of PII (XChaCha20-Poly1305 with key ids) and keyed blind indexes (HMAC-SHA-256).
//
// Every function is thread-safe. Secrets are std::string of raw bytes; callers never log them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "platform/core/status.h"

namespace emporium::crypto {

// Initialises libsodium (idempotent, thread-safe). Every function below also calls it lazily;
// calling it at start-up surfaces a broken environment (no entropy source) early.
Status Init();

std::string Base64UrlEncode(std::string_view bytes);         // no padding (RFC 7515 §2)
Result<std::string> Base64UrlDecode(std::string_view text);  // rejects padding and bad chars
std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view text);

std::string Sha256(std::string_view data);                            // 32 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// n random bytes from the OS CSPRNG.
std::string RandomBytes(size_t n);
// An opaque token with 256 bits of entropy, base64url (refresh tokens, codes, ids).
std::string RandomToken();

// argon2id via crypto_pwhash_str: the PHC string records algorithm, version and parameters,
// so they can be raised later (NeedsRehash).
struct PasswordCost {
  uint64_t ops_limit = 3;                  // iterations
  size_t mem_limit = 64ull * 1024 * 1024;  // bytes
};
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost);
// True when password matches hash; false for a mismatch or a malformed hash.
bool VerifyPassword(std::string_view hash, std::string_view password);
bool NeedsRehash(std::string_view hash, const PasswordCost& cost);

// XChaCha20-Poly1305 with a key ring. Ciphertext format: "<kid>:<base64url(nonce || ct+tag)>".
// Seal uses the primary key; Open picks the key by kid (old keys stay for reading until data is
// re-encrypted). `context` is bound as associated data (e.g. "users.email:<user id>"), so a
// ciphertext moved to another row or column does not decrypt.
class Aead {
 public:
  // keys: kid → 32-byte key. kInvalidArgument for a wrong key size or a primary not in keys.
  static Result<Aead> Create(std::map<std::string, std::string> keys, std::string primary_kid);
  Result<std::string> Seal(std::string_view plaintext, std::string_view context) const;
  // kInvalidArgument for a malformed ciphertext, kNotFound for an unknown kid,
  // kPermissionDenied when authentication fails (tampered or wrong context).
  Result<std::string> Open(std::string_view ciphertext, std::string_view context) const;
  const std::string& primary_kid() const { return primary_; }

 private:
  std::map<std::string, std::string> keys_;
  std::string primary_;
};

// A key ring from config: "kid:base64url[,kid:base64url...]", the first entry being the primary
// (new data is sealed with it; the others stay for reading). A bare base64url key without a kid
// gets kid "k1". kInvalidArgument (naming the entry, never the key) for a malformed entry, a
// duplicate kid or a key that is not key_bytes long.
struct KeyRing {
  std::map<std::string, std::string> keys;
  std::string primary_kid;
};
Result<KeyRing> ParseKeyRing(std::string_view spec, size_t key_bytes = 32);
// The inverse of ParseKeyRing for a single fresh key ("<kid>:<base64url key>"), e.g. to persist
// a generated local key.
std::string FormatKeyRingEntry(std::string_view kid, std::string_view key);

// Keyed blind index for equality lookups on encrypted values: HMAC-SHA-256 of the normalised
// value under a dedicated key, hex encoded. The key never leaves config.
std::string BlindIndex(std::string_view key, std::string_view normalized_value);

}  // namespace emporium::crypto
