#include "services/identity/signing.h"

#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/identity/api.h"

namespace emporium::identity {
namespace {

std::string PemContext(const std::string& kid) {
  return "signing_keys.private_pem:" + kid;
}

}  // namespace

KeyRing::KeyRing(Store& store, const crypto::Aead& aead, Clock& clock, Millis rotation, Millis access_ttl,
                 std::string issuer)
    : store_(store),
      aead_(aead),
      clock_(clock),
      rotation_(rotation),
      access_ttl_(access_ttl),
      issuer_(std::move(issuer)) {}

Result<const auth::SigningKey*> KeyRing::Current() {
  int64_t now = UnixMillis(clock_.WallNow());
  std::lock_guard lock(mu_);
  if (!current_kid_.empty() && now < current_retire_after_) return loaded_.at(current_kid_).get();
  // Another process may have rotated already: use its key when it is still fresh.
  EMP_ASSIGN_OR_RETURN(auto rows, store_.SigningKeys(now));
  if (!rows.empty()) {
    const SigningKeyRow& row = rows.front();
    auto& slot = loaded_[row.kid];
    if (!slot) {
      EMP_ASSIGN_OR_RETURN(std::string pem, aead_.Open(row.private_pem_enc, PemContext(row.kid)));
      EMP_ASSIGN_OR_RETURN(slot, auth::SigningKey::FromPem(row.kid, pem));
    }
    current_kid_ = row.kid;
    current_retire_after_ = row.retire_after;
    return slot.get();
  }
  std::string kid = NewUuidV7();
  EMP_ASSIGN_OR_RETURN(auto key, auth::SigningKey::Generate(kid));
  EMP_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(key->PrivatePem(), PemContext(kid)));
  SigningKeyRow row{kid, sealed, key->PublicJwk(), now, now + rotation_.count()};
  EMP_RETURN_IF_ERROR(store_.InsertSigningKey(row));
  log::Info("identity signing key created", {{"kid", kid}});
  current_kid_ = kid;
  current_retire_after_ = row.retire_after;
  auto& slot = loaded_[kid];
  slot = std::move(key);
  return slot.get();
}

Result<std::string> KeyRing::Sign(auth::Claims claims) {
  EMP_ASSIGN_OR_RETURN(const auth::SigningKey* key, Current());
  claims.iss = issuer_;
  claims.aud = std::string(kAudience);
  return key->Sign(claims);
}

Result<std::string> KeyRing::Jwks() {
  // Make sure a key exists before anyone asks to verify a token.
  EMP_RETURN_IF_ERROR(Current().status());
  int64_t now = UnixMillis(clock_.WallNow());
  EMP_ASSIGN_OR_RETURN(auto rows, store_.SigningKeys(now - access_ttl_.count()));
  std::vector<std::string> jwks;
  for (const auto& r : rows) jwks.push_back(r.public_jwk);
  return auth::JwksDocument(jwks);
}

Result<auth::Claims> KeyRing::Verify(std::string_view token) {
  EMP_ASSIGN_OR_RETURN(std::string jwks, Jwks());
  EMP_ASSIGN_OR_RETURN(auth::Verifier verifier, auth::Verifier::FromJwks(jwks));
  auto claims = verifier.Verify(token, auth::VerifyOptions{issuer_, std::string(kAudience)}, clock_);
  if (!claims.ok()) return Unauthenticated("token is not valid");
  return claims;
}

}  // namespace emporium::identity
