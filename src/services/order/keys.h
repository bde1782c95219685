// The key that seals shipping addresses at rest (and, derived from it, the key of the request
// hashes kept for Idempotency-Key checks).
//
// Config `order-data-key`: "kid:base64url32[,kid:base64url32...]" (first = primary). When empty
// and there is no --sql-url (embedded mode) it is generated once into <data-dir>/order.keys
// (mode 0600) and reused; with --sql-url it is required (every replica must share it).
// Thread-safety: OrderKeys is immutable after loading.
#pragma once

#include <filesystem>
#include <string>

#include "platform/core/status.h"
#include "platform/crypto/crypto.h"

namespace emporium::order {

struct OrderKeys {
  crypto::Aead aead;
  std::string hash_key;  // raw 32 bytes
};

Result<OrderKeys> LoadOrderKeys(const std::string& spec, bool distributed,
                                const std::filesystem::path& keys_file);

}  // namespace emporium::order
