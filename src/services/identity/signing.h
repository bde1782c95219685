// The ES256 signing keys of identity: creation, rotation, JWKS publication and own-token checks.
//
// Keys live in table signing_keys with the private PEM sealed by the Aead. The newest key signs
// until `rotation` has passed since its creation (its retire_after); then a new key is made. A
// retired key's public half stays in the JWKS until retire_after + access_ttl, so every token it
// signed can still be verified until it expires. Several processes may rotate at once: each
// makes its own key and all of them are published, which is harmless.
// Thread-safety: thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "platform/auth/jwt.h"
#include "platform/core/clock.h"
#include "platform/crypto/crypto.h"
#include "services/identity/store.h"

namespace emporium::identity {

class KeyRing {
 public:
  KeyRing(Store& store, const crypto::Aead& aead, Clock& clock, Millis rotation, Millis access_ttl,
          std::string issuer);

  // Signs with the current key (rotating first when it is due). Sets iss and aud.
  Result<std::string> Sign(auth::Claims claims);
  // {"keys":[...]} of every key whose tokens may still be valid.
  Result<std::string> Jwks();
  // Verifies a token this identity issued (guest tokens presented on a login).
  Result<auth::Claims> Verify(std::string_view token);
  const std::string& issuer() const { return issuer_; }

 private:
  Result<const auth::SigningKey*> Current();

  Store& store_;
  const crypto::Aead& aead_;
  Clock& clock_;
  Millis rotation_, access_ttl_;
  std::string issuer_;
  std::mutex mu_;
  // Never erased while running, so the pointers handed out stay valid (one key per rotation).
  std::map<std::string, std::unique_ptr<auth::SigningKey>> loaded_;
  std::string current_kid_;
  int64_t current_retire_after_ = 0;
};

}  // namespace emporium::identity
