// The keys that protect PII at rest: the Aead key ring (email, name, phone, addresses and the
// signing keys' private PEMs) and the blind-index key for email lookups.
//
// From config: `identity-data-key` is "kid:base64url32[,kid:base64url32...]" (first = primary,
// the others stay readable during a rotation; a bare value gets kid "k1") and
// `identity-index-key` is base64url of 32 bytes. When a key is empty and there is no --sql-url
// (embedded mode), it is generated once into <data-dir>/identity.keys (mode 0600) and reused;
// with --sql-url both are required. Thread-safety: DataKeys is immutable after loading.
#pragma once

#include <filesystem>
#include <string>

#include "platform/core/status.h"
#include "platform/crypto/crypto.h"

namespace emporium::identity {

struct DataKeys {
  crypto::Aead aead;
  std::string index_key;  // raw 32 bytes
};

struct KeySettings {
  std::string data_key;   // identity-data-key
  std::string index_key;  // identity-index-key
  bool distributed = false;
  std::filesystem::path keys_file;  // <data-dir>/identity.keys
};

// kFailedPrecondition naming the missing key in distributed mode; kInvalidArgument for a
// malformed key.
Result<DataKeys> LoadDataKeys(const KeySettings& settings);

}  // namespace emporium::identity
