// argon2id password hashing through libsodium's crypto_pwhash_str_* (PHC string format).
#include <sodium.h>

#include "platform/crypto/crypto.h"
#include "platform/crypto/sodium_init.h"

namespace emporium::crypto {

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  internal::EnsureSodium();
  if (cost.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      cost.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
      cost.mem_limit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      cost.mem_limit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return InvalidArgument("argon2id cost out of range");
  }
  if (password.size() > crypto_pwhash_argon2id_PASSWD_MAX) return InvalidArgument("password too long");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops_limit, cost.mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    // The only runtime failure is an allocation of mem_limit bytes.
    return ResourceExhausted("argon2id could not allocate its memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  internal::EnsureSodium();
  // crypto_pwhash_str_verify wants a NUL-terminated string of bounded length.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (hash.find('\0') != std::string_view::npos) return false;
  std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool NeedsRehash(std::string_view hash, const PasswordCost& cost) {
  internal::EnsureSodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return true;
  std::string terminated(hash);
  // 1: other parameters, -1: not an argon2id string at all (e.g. an older algorithm). Both mean
  // the hash should be replaced the next time the password is known.
  return crypto_pwhash_argon2id_str_needs_rehash(terminated.c_str(), cost.ops_limit, cost.mem_limit) != 0;
}

}  // namespace emporium::crypto
