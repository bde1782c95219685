// Identity's schema. Every PII column holds an Aead ciphertext ("<kid>:<base64url>"); the email is
// found through its blind index. Times are Unix milliseconds. Portable SQL for both backends.
#include "services/identity/store.h"

namespace emporium::identity {

std::span<const sql::Migration> Migrations() {
  static const sql::Migration kMigrations[] = {
      {1, "create_identity",
       R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email_bidx TEXT NOT NULL UNIQUE,
  email_enc TEXT NOT NULL,
  name_enc TEXT NOT NULL,
  phone_enc TEXT,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE addresses (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  fields_enc TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX addresses_by_user ON addresses(user_id);
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  secret_hash TEXT,
  redirect_uris TEXT NOT NULL,
  grant_types TEXT NOT NULL,
  roles TEXT NOT NULL,
  first_party INTEGER NOT NULL,
  created_at BIGINT NOT NULL
);
INSERT INTO clients (client_id, secret_hash, redirect_uris, grant_types, roles, first_party, created_at)
  VALUES ('storefront', NULL, '', 'password refresh_token', '', 1, 0);
CREATE TABLE refresh_tokens (
  id TEXT PRIMARY KEY,
  family_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);
CREATE TABLE auth_codes (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  scope TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  private_pem_enc TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retire_after BIGINT NOT NULL
);
)sql",
       "", ""},
  };
  return kMigrations;
}

}  // namespace emporium::identity
