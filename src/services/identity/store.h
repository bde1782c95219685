// Persistence of identity: SQL through sql::Database, rows hold ciphertexts and hashes only.
//
// Every write that changes a user also writes its events to the outbox in the same
// transaction. Thread-safety: thread-safe (the Database pools connections).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/sql/sql.h"
#include "services/identity/events.h"

namespace emporium::identity {

std::span<const sql::Migration> Migrations();

struct UserRow {
  std::string id, email_bidx, email_enc, name_enc, phone_enc, password_hash, roles;
  int64_t created_at = 0, updated_at = 0;
};

struct AddressRow {
  std::string id, user_id, fields_enc;
  int64_t created_at = 0;
};

struct ClientRow {
  std::string client_id, secret_hash, redirect_uris, grant_types, roles;
  bool first_party = false;
};

struct RefreshRow {
  std::string id;  // SHA-256 hex of the token
  std::string family_id, user_id, client_id, scope;
  int64_t created_at = 0, expires_at = 0;
};

struct CodeRow {
  std::string id;  // SHA-256 hex of the code
  std::string client_id, user_id, redirect_uri, code_challenge, scope;
  int64_t expires_at = 0;
};

struct SigningKeyRow {
  std::string kid, private_pem_enc, public_jwk;
  int64_t created_at = 0, retire_after = 0;
};

// What happened to a refresh token presented for rotation.
enum class RotateOutcome { kRotated, kUnknown, kExpired, kRevoked, kReused, kWrongClient };

class Store {
 public:
  // notify is called after a commit that wrote events (wakes the relay); may be empty.
  Store(sql::Database& db, std::function<void()> notify);
  Status Migrate();

  // kAlreadyExists when the email's blind index is taken.
  Status InsertUser(const UserRow& row, const Events& events);
  Result<std::optional<UserRow>> FindUserByEmail(const std::string& email_bidx);
  Result<std::optional<UserRow>> FindUser(const std::string& id);
  // Writes name_enc, phone_enc (empty → NULL), password_hash and updated_at of row.id.
  Status UpdateUser(const UserRow& row, const Events& events);
  // Users with id > after (ids are time-ordered UUIDv7), at most limit.
  Result<std::vector<UserRow>> ListUsers(const std::string& after, int limit);

  // kResourceExhausted when the user already has max addresses.
  Status InsertAddress(const AddressRow& row, int max);
  Result<std::vector<AddressRow>> ListAddresses(const std::string& user_id);
  // False when no address id belongs to user_id.
  Result<bool> DeleteAddress(const std::string& user_id, const std::string& id);

  Result<std::optional<ClientRow>> FindClient(const std::string& client_id);
  // kAlreadyExists for a taken client_id.
  Status InsertClient(const ClientRow& row, int64_t now);

  // Stores a new refresh token (a new family at login) with the login's events.
  Status InsertRefresh(const RefreshRow& row, const Events& events);
  // Spends the token with hash old_id and stores next in the same family when it is valid for
  // client_id; a reused (already spent) token revokes its whole family. *row receives the old
  // token's row when it exists.
  Result<RotateOutcome> RotateRefresh(const std::string& old_id, const std::string& client_id, int64_t now,
                                      RefreshRow next, RefreshRow* row);
  // Revokes the family of the token (no-op for an unknown token or another client's token).
  Status RevokeRefresh(const std::string& id, const std::string& client_id, int64_t now);
  // Revokes every family of a user (e.g. after a password change).
  Status RevokeUserRefresh(const std::string& user_id, int64_t now);

  Status InsertCode(const CodeRow& row);
  // Marks the code used and returns it; nullopt when unknown, already used or expired.
  Result<std::optional<CodeRow>> ConsumeCode(const std::string& id, int64_t now);

  Status InsertSigningKey(const SigningKeyRow& row);
  // Keys whose retire_after is after min_retire_after, newest first.
  Result<std::vector<SigningKeyRow>> SigningKeys(int64_t min_retire_after);

  // Events without another state change (guest merge).
  Status AddEvents(const Events& events);

 private:
  sql::Database& db_;
  std::function<void()> notify_;
};

}  // namespace emporium::identity
