#include "services/identity/store.h"

#include "platform/bus/outbox.h"

namespace emporium::identity {
namespace {

using sql::Null;
using sql::Value;

Value TextOrNull(const std::string& s) {
  return s.empty() ? Value(Null{}) : Value(s);
}

constexpr const char* kUserColumns =
    "id, email_bidx, email_enc, name_enc, phone_enc, password_hash, roles, created_at, updated_at";

UserRow ToUser(const sql::Row& r) {
  UserRow u;
  u.id = r.Text(0);
  u.email_bidx = r.Text(1);
  u.email_enc = r.Text(2);
  u.name_enc = r.Text(3);
  u.phone_enc = r.IsNull(4) ? "" : r.Text(4);
  u.password_hash = r.Text(5);
  u.roles = r.Text(6);
  u.created_at = r.Int(7);
  u.updated_at = r.Int(8);
  return u;
}

Result<std::optional<UserRow>> OneUser(Result<sql::ResultSet> rs) {
  if (!rs.ok()) return rs.status();
  if (rs->rows.empty()) return std::optional<UserRow>();
  return std::optional<UserRow>(ToUser(rs->rows[0]));
}

}  // namespace

Store::Store(sql::Database& db, std::function<void()> notify) : db_(db), notify_(std::move(notify)) {}

Status Store::Migrate() {
  EMP_RETURN_IF_ERROR(bus::MigrateOutbox(db_));
  return sql::Migrate(db_, "identity", Migrations());
}

Status Store::InsertUser(const UserRow& u, const Events& events) {
  Status s = db_.Transact([&](sql::Tx& tx) {
    EMP_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO users (id, email_bidx, email_enc, name_enc, phone_enc, password_hash, roles, "
                "created_at, "
                "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                {u.id, u.email_bidx, u.email_enc, u.name_enc, TextOrNull(u.phone_enc), u.password_hash,
                 u.roles, u.created_at, u.updated_at}));
    return AddToOutbox(tx, events);
  });
  if (s.ok() && notify_) notify_();
  return s;
}

Result<std::optional<UserRow>> Store::FindUserByEmail(const std::string& email_bidx) {
  return OneUser(
      db_.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE email_bidx = $1", {email_bidx}));
}

Result<std::optional<UserRow>> Store::FindUser(const std::string& id) {
  return OneUser(db_.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = $1", {id}));
}

Status Store::UpdateUser(const UserRow& u, const Events& events) {
  Status s = db_.Transact([&](sql::Tx& tx) {
    EMP_ASSIGN_OR_RETURN(
        auto rs,
        tx.Query("UPDATE users SET name_enc = $1, phone_enc = $2, password_hash = $3, "
                 "roles = $4, updated_at = $5 WHERE id = $6",
                 {u.name_enc, TextOrNull(u.phone_enc), u.password_hash, u.roles, u.updated_at, u.id}));
    if (rs.affected == 0) return NotFound("user not found");
    return AddToOutbox(tx, events);
  });
  if (s.ok() && notify_ && !events.empty()) notify_();
  return s;
}

Result<std::vector<UserRow>> Store::ListUsers(const std::string& after, int limit) {
  EMP_ASSIGN_OR_RETURN(auto rs, db_.Query(std::string("SELECT ") + kUserColumns +
                                              " FROM users WHERE id > $1 ORDER BY id LIMIT $2",
                                          {after, int64_t{limit}}));
  std::vector<UserRow> out;
  for (const auto& r : rs.rows) out.push_back(ToUser(r));
  return out;
}

Status Store::InsertAddress(const AddressRow& a, int max) {
  return db_.Transact([&](sql::Tx& tx) {
    EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT COUNT(*) FROM addresses WHERE user_id = $1", {a.user_id}));
    if (rs.rows[0].Int(0) >= max)
      return ResourceExhausted("at most " + std::to_string(max) + " addresses per user");
    return tx.Exec("INSERT INTO addresses (id, user_id, fields_enc, created_at) VALUES ($1, $2, $3, $4)",
                   {a.id, a.user_id, a.fields_enc, a.created_at});
  });
}

Result<std::vector<AddressRow>> Store::ListAddresses(const std::string& user_id) {
  EMP_ASSIGN_OR_RETURN(auto rs, db_.Query("SELECT id, user_id, fields_enc, created_at FROM addresses "
                                          "WHERE user_id = $1 ORDER BY id",
                                          {user_id}));
  std::vector<AddressRow> out;
  for (const auto& r : rs.rows) out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Int(3)});
  return out;
}

Result<bool> Store::DeleteAddress(const std::string& user_id, const std::string& id) {
  EMP_ASSIGN_OR_RETURN(auto rs,
                       db_.Query("DELETE FROM addresses WHERE id = $1 AND user_id = $2", {id, user_id}));
  return rs.affected > 0;
}

Result<std::optional<ClientRow>> Store::FindClient(const std::string& client_id) {
  EMP_ASSIGN_OR_RETURN(auto rs, db_.Query("SELECT client_id, secret_hash, redirect_uris, grant_types, roles, "
                                          "first_party FROM clients WHERE client_id = $1",
                                          {client_id}));
  if (rs.rows.empty()) return std::optional<ClientRow>();
  const sql::Row& r = rs.rows[0];
  return std::optional<ClientRow>(
      ClientRow{r.Text(0), r.IsNull(1) ? "" : r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5) != 0});
}

Status Store::InsertClient(const ClientRow& c, int64_t now) {
  return db_.Transact([&](sql::Tx& tx) {
    return tx.Exec(
        "INSERT INTO clients (client_id, secret_hash, redirect_uris, grant_types, roles, first_party, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {c.client_id, TextOrNull(c.secret_hash), c.redirect_uris, c.grant_types, c.roles,
         int64_t{c.first_party ? 1 : 0}, now});
  });
}

namespace {

Status InsertRefreshTx(sql::Tx& tx, const RefreshRow& r) {
  return tx.Exec(
      "INSERT INTO refresh_tokens (id, family_id, user_id, client_id, scope, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {r.id, r.family_id, r.user_id, r.client_id, r.scope, r.created_at, r.expires_at});
}

}  // namespace

Status Store::InsertRefresh(const RefreshRow& row, const Events& events) {
  Status s = db_.Transact([&](sql::Tx& tx) {
    EMP_RETURN_IF_ERROR(InsertRefreshTx(tx, row));
    return AddToOutbox(tx, events);
  });
  if (s.ok() && notify_ && !events.empty()) notify_();
  return s;
}

Result<RotateOutcome> Store::RotateRefresh(const std::string& old_id, const std::string& client_id,
                                           int64_t now, RefreshRow next, RefreshRow* row) {
  RotateOutcome outcome = RotateOutcome::kUnknown;
  Status s = db_.Transact([&](sql::Tx& tx) {
    EMP_ASSIGN_OR_RETURN(auto rs,
                         tx.Query("SELECT family_id, user_id, client_id, scope, expires_at, used_at, "
                                  "revoked_at, created_at FROM refresh_tokens WHERE id = $1",
                                  {old_id}));
    if (rs.rows.empty()) {
      outcome = RotateOutcome::kUnknown;
      return Status::Ok();
    }
    const sql::Row& r = rs.rows[0];
    *row = RefreshRow{old_id, r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Int(7), r.Int(4)};
    if (row->client_id != client_id) {
      outcome = RotateOutcome::kWrongClient;
      return Status::Ok();
    }
    if (!r.IsNull(6)) {
      outcome = RotateOutcome::kRevoked;
      return Status::Ok();
    }
    if (!r.IsNull(5)) {
      // A spent token came back: it was stolen or replayed, so nothing of this family is trusted.
      outcome = RotateOutcome::kReused;
      return tx.Exec("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                     {now, row->family_id});
    }
    if (row->expires_at <= now) {
      outcome = RotateOutcome::kExpired;
      return Status::Ok();
    }
    EMP_RETURN_IF_ERROR(tx.Exec("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2", {now, old_id}));
    next.family_id = row->family_id;
    next.user_id = row->user_id;
    next.client_id = row->client_id;
    next.scope = row->scope;
    outcome = RotateOutcome::kRotated;
    return InsertRefreshTx(tx, next);
  });
  if (!s.ok()) return s;
  return outcome;
}

Status Store::RevokeRefresh(const std::string& id, const std::string& client_id, int64_t now) {
  return db_.Transact([&](sql::Tx& tx) {
    EMP_ASSIGN_OR_RETURN(auto rs,
                         tx.Query("SELECT family_id, client_id FROM refresh_tokens WHERE id = $1", {id}));
    if (rs.rows.empty() || rs.rows[0].Text(1) != client_id) return Status::Ok();
    return tx.Exec("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                   {now, rs.rows[0].Text(0)});
  });
}

Status Store::RevokeUserRefresh(const std::string& user_id, int64_t now) {
  return db_.Transact([&](sql::Tx& tx) {
    return tx.Exec("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
                   {now, user_id});
  });
}

Status Store::InsertCode(const CodeRow& c) {
  return db_.Transact([&](sql::Tx& tx) {
    return tx.Exec(
        "INSERT INTO auth_codes (id, client_id, user_id, redirect_uri, code_challenge, scope, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {c.id, c.client_id, c.user_id, c.redirect_uri, c.code_challenge, c.scope, c.expires_at});
  });
}

Result<std::optional<CodeRow>> Store::ConsumeCode(const std::string& id, int64_t now) {
  std::optional<CodeRow> out;
  Status s = db_.Transact([&](sql::Tx& tx) {
    out.reset();
    EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT client_id, user_id, redirect_uri, code_challenge, scope, "
                                           "expires_at, used_at FROM auth_codes WHERE id = $1",
                                           {id}));
    if (rs.rows.empty() || !rs.rows[0].IsNull(6)) return Status::Ok();
    const sql::Row& r = rs.rows[0];
    EMP_RETURN_IF_ERROR(tx.Exec("UPDATE auth_codes SET used_at = $1 WHERE id = $2", {now, id}));
    if (r.Int(5) <= now) return Status::Ok();
    out = CodeRow{id, r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5)};
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Status Store::InsertSigningKey(const SigningKeyRow& k) {
  return db_.Transact([&](sql::Tx& tx) {
    return tx.Exec(
        "INSERT INTO signing_keys (kid, private_pem_enc, public_jwk, created_at, retire_after) "
        "VALUES ($1, $2, $3, $4, $5)",
        {k.kid, k.private_pem_enc, k.public_jwk, k.created_at, k.retire_after});
  });
}

Result<std::vector<SigningKeyRow>> Store::SigningKeys(int64_t min_retire_after) {
  EMP_ASSIGN_OR_RETURN(auto rs,
                       db_.Query("SELECT kid, private_pem_enc, public_jwk, created_at, retire_after "
                                 "FROM signing_keys WHERE retire_after > $1 ORDER BY created_at DESC, kid",
                                 {min_retire_after}));
  std::vector<SigningKeyRow> out;
  for (const auto& r : rs.rows) out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Int(4)});
  return out;
}

Status Store::AddEvents(const Events& events) {
  Status s = db_.Transact([&](sql::Tx& tx) { return AddToOutbox(tx, events); });
  if (s.ok() && notify_) notify_();
  return s;
}

}  // namespace emporium::identity
