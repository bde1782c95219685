// Accounts: registration, password authentication, profiles, addresses and the admin listing.
//
// Domain logic only (no HTTP or SQL types): PII is sealed with the Aead before it reaches the
// Store and opened after; the email is found by its blind index. Validation failures return
// kInvalidArgument and fill `errors` with one entry per field.
// Thread-safety: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/crypto/crypto.h"
#include "services/identity/keys.h"
#include "services/identity/model.h"
#include "services/identity/store.h"
#include "services/identity/throttle.h"

namespace emporium::identity {

struct AccountOptions {
  crypto::PasswordCost password_cost{2, 19456 * 1024};
  int max_addresses = 20;
};

struct NewUser {
  std::string email, password, name;
  std::vector<std::string> roles{"customer"};
};

struct ProfileChange {
  std::optional<std::string> name;
  std::optional<std::string> phone;  // "" clears it
};

struct UserPage {
  std::vector<User> users;
  std::string next_page_token;  // empty on the last page
};

// "  Ada@Example.COM " → "ada@example.com" (what the blind index is computed over).
std::string NormalizeEmail(std::string_view email);
// Adds a field error for each invalid value of the change.
void ValidateProfileChange(const ProfileChange& change, FieldErrors* errors);
// Roles a user may have.
bool IsKnownRole(std::string_view role);

class Accounts {
 public:
  Accounts(Store& store, const DataKeys& keys, Throttle& throttle, Clock& clock, AccountOptions options);

  // kAlreadyExists when the email is registered; kInvalidArgument with field errors.
  Result<User> Register(const NewUser& in, FieldErrors* errors);
  // kUnauthenticated for an unknown email or a wrong password (same answer, similar time);
  // kResourceExhausted with *retry_after when the account or the IP is throttled.
  Result<User> Authenticate(const std::string& email, const std::string& password, const std::string& ip,
                            Millis* retry_after);
  // kNotFound when the user does not exist.
  Result<User> Get(const std::string& user_id);
  Result<User> UpdateProfile(const std::string& user_id, const ProfileChange& change, FieldErrors* errors);

  Result<Address> AddAddress(const std::string& user_id, const Address& in, FieldErrors* errors);
  Result<std::vector<Address>> Addresses(const std::string& user_id);
  // kNotFound unless the address exists and belongs to user_id.
  Status DeleteAddress(const std::string& user_id, const std::string& address_id);

  // kInvalidArgument for a malformed page token.
  Result<UserPage> List(const std::string& page_token, int page_size);

 private:
  Result<User> Open(const UserRow& row) const;
  std::string EmailIndex(std::string_view email) const;

  Store& store_;
  const DataKeys& keys_;
  Throttle& throttle_;
  Clock& clock_;
  AccountOptions options_;
  // Verified against when the email is unknown, so both failures cost one argon2 run.
  std::string dummy_hash_;
};

}  // namespace emporium::identity
