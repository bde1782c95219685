#include "services/identity/core.h"

#include "platform/kv/kv.h"

namespace emporium::identity {

std::vector<config::Key> ConfigKeys() {
  using config::Type;
  auto positive = [](std::string_view v) -> std::string {
    return std::atoll(std::string(v).c_str()) > 0 ? "" : "expected a positive integer";
  };
  return {
      {"identity-data-key", Type::kString, "",
       "PII encryption keys: kid:base64url(32 bytes)[,kid:...], first is primary (empty in embedded mode: "
       "generated into <data-dir>/identity.keys)."},
      {"identity-index-key", Type::kString, "", "Blind-index key for email lookups: base64url(32 bytes)."},
      {"identity-password-ops", Type::kInt, "2", "argon2id iterations for new password hashes.", positive},
      {"identity-password-mem-kib", Type::kInt, "19456", "argon2id memory (KiB) for new password hashes.",
       positive},
      {"identity-access-ttl", Type::kDuration, "15m", "Lifetime of access tokens."},
      {"identity-refresh-ttl", Type::kDuration, "720h", "Lifetime of refresh tokens."},
      {"identity-guest-ttl", Type::kDuration, "24h", "Lifetime of guest tokens."},
      {"identity-key-rotation", Type::kDuration, "24h",
       "How long a signing key signs before a new one replaces it."},
      {"identity-login-account-failures", Type::kInt, "5",
       "Failed sign-ins per account (15 min) before locking.", positive},
      {"identity-login-ip-failures", Type::kInt, "20",
       "Failed sign-ins per client IP per minute before blocking.", positive},
      {"identity-bootstrap-admin-email", Type::kString, "", "Creates this admin at start when absent."},
      {"identity-bootstrap-admin-password-file", Type::kString, "",
       "File holding the bootstrap admin's password."},
  };
}

Core::Core() = default;
Core::~Core() {
  publisher_.Stop();
}

Status Core::Open(Runtime& rt, bool private_kv) {
  EMP_RETURN_IF_ERROR(crypto::Init());
  const config::Config& cfg = rt.config();
  EMP_ASSIGN_OR_RETURN(db_, rt.Database("identity"));
  store_ = std::make_unique<Store>(*db_, [this] { publisher_.Notify(); });
  EMP_RETURN_IF_ERROR(store_->Migrate());

  KeySettings ks{cfg.Get("identity-data-key"), cfg.Get("identity-index-key"), !cfg.Get("sql-url").empty(),
                 rt.data_dir() / "identity.keys"};
  EMP_ASSIGN_OR_RETURN(DataKeys keys, LoadDataKeys(ks));
  data_keys_ = std::make_unique<DataKeys>(std::move(keys));

  kv::Store* kv = nullptr;
  if (private_kv) {
    EMP_ASSIGN_OR_RETURN(own_kv_, kv::Open("memory://", rt.clock()));
    kv = own_kv_.get();
  } else {
    EMP_ASSIGN_OR_RETURN(kv, rt.Kv());
  }
  ThrottleLimits limits;
  limits.account_failures = static_cast<int>(cfg.Int("identity-login-account-failures"));
  limits.ip_failures = static_cast<int>(cfg.Int("identity-login-ip-failures"));
  throttle_ = std::make_unique<Throttle>(*kv, limits);

  AccountOptions ao;
  ao.password_cost.ops_limit = static_cast<uint64_t>(cfg.Int("identity-password-ops"));
  ao.password_cost.mem_limit = static_cast<size_t>(cfg.Int("identity-password-mem-kib")) * 1024;
  accounts_ = std::make_unique<Accounts>(*store_, *data_keys_, *throttle_, rt.clock(), ao);

  TokenOptions to;
  to.access_ttl = cfg.Duration("identity-access-ttl");
  to.refresh_ttl = cfg.Duration("identity-refresh-ttl");
  to.guest_ttl = cfg.Duration("identity-guest-ttl");
  keyring_ = std::make_unique<KeyRing>(*store_, data_keys_->aead, rt.clock(),
                                       cfg.Duration("identity-key-rotation"), to.access_ttl, rt.public_url());
  oauth_ = std::make_unique<OAuth>(*store_, *accounts_, *keyring_, rt.clock(), to);
  return Status::Ok();
}

}  // namespace emporium::identity
