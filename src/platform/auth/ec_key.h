// Internal: the OpenSSL 3 pieces of ES256 (P-256 keys, ECDSA signatures in the JOSE r||s form).
// Functions are thread-safe; an EVP_PKEY may be shared by threads for signing and verifying.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "platform/core/status.h"

namespace emporium::auth::internal {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline constexpr size_t kCoordBytes = 32;  // P-256 field element
inline constexpr size_t kJoseSigBytes = 2 * kCoordBytes;

Result<PkeyPtr> GenerateP256();
// kInvalidArgument unless the PEM holds an EC P-256 private key.
Result<PkeyPtr> PrivateKeyFromPem(std::string_view pem);
std::string PrivateKeyToPem(EVP_PKEY* key);
// The affine coordinates of the public point, 32 bytes each, big-endian.
Result<std::pair<std::string, std::string>> PublicXY(EVP_PKEY* key);
// kInvalidArgument when (x, y) is not a point on P-256.
Result<PkeyPtr> PublicKeyFromXY(std::string_view x, std::string_view y);

// ECDSA-SHA256 over data; the 64-byte JOSE signature (RFC 7518 §3.4).
Result<std::string> SignEs256(EVP_PKEY* key, std::string_view data);
// True only for a valid 64-byte JOSE signature of data under key.
bool VerifyEs256(EVP_PKEY* key, std::string_view data, std::string_view jose_sig);

}  // namespace emporium::auth::internal
