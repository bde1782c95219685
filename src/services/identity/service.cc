#include "services/identity/service.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cctype>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/identity/events.h"
#include "services/identity/passwords.h"

namespace emporium::identity {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string CheckEmail(std::string_view email) {
  if (email.empty()) return "is required";
  if (email.size() > 254) return "must be at most 254 characters";
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos) {
    return "is not a valid email address";
  }
  std::string_view domain = email.substr(at + 1);
  if (at > 64 || domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    return "is not a valid email address";
  }
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',') {
      return "is not a valid email address";
    }
  }
  return {};
}

std::string CheckText(std::string_view v, size_t max, bool required) {
  if (v.empty()) return required ? "is required" : "";
  if (v.size() > max) return "must be at most " + std::to_string(max) + " characters";
  if (HasControl(v)) return "must not contain control characters";
  return {};
}

std::string CheckPhone(std::string_view p) {
  if (p.empty()) return {};
  if (p.size() > 24) return "must be at most 24 characters";
  int digits = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (!(c == '+' && i == 0) && c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return "must contain only digits, spaces, '-', '.', '(' ')' and a leading '+'";
    }
  }
  return digits >= 6 ? "" : "must contain at least 6 digits";
}

void Expect(FieldErrors* errors, const std::string& field, std::string message) {
  if (!message.empty() && errors) errors->push_back({field, std::move(message)});
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : " ") + r;
  return out;
}

std::vector<std::string> SplitRoles(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t sp = s.find(' ');
    if (sp != 0) out.emplace_back(s.substr(0, sp));
    s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  }
  return out;
}

std::string EmailContext(const std::string& id) {
  return "users.email:" + id;
}
std::string NameContext(const std::string& id) {
  return "users.name:" + id;
}
std::string PhoneContext(const std::string& id) {
  return "users.phone:" + id;
}
std::string AddressContext(const std::string& id) {
  return "addresses.fields:" + id;
}

Status ValidationFailed(const FieldErrors* errors) {
  std::string fields;
  if (errors) {
    for (const auto& e : *errors) fields += (fields.empty() ? "" : ", ") + e.field;
  }
  return InvalidArgument("invalid fields: " + fields);
}

}  // namespace

std::string NormalizeEmail(std::string_view email) {
  std::string out = Trim(email);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

void ValidateProfileChange(const ProfileChange& change, FieldErrors* errors) {
  if (change.name) Expect(errors, "name", CheckText(Trim(*change.name), 200, true));
  if (change.phone) Expect(errors, "phone", CheckPhone(Trim(*change.phone)));
}

bool IsKnownRole(std::string_view role) {
  return role == "customer" || role == "support" || role == "admin";
}

Accounts::Accounts(Store& store, const DataKeys& keys, Throttle& throttle, Clock& clock,
                   AccountOptions options)
    : store_(store), keys_(keys), throttle_(throttle), clock_(clock), options_(options) {
  auto dummy = crypto::HashPassword(crypto::RandomToken(), options_.password_cost);
  if (dummy.ok()) dummy_hash_ = std::move(dummy).value();
}

std::string Accounts::EmailIndex(std::string_view email) const {
  return crypto::BlindIndex(keys_.index_key, NormalizeEmail(email));
}

Result<User> Accounts::Open(const UserRow& row) const {
  User u;
  u.id = row.id;
  EMP_ASSIGN_OR_RETURN(u.email, keys_.aead.Open(row.email_enc, EmailContext(row.id)));
  EMP_ASSIGN_OR_RETURN(u.name, keys_.aead.Open(row.name_enc, NameContext(row.id)));
  if (!row.phone_enc.empty()) {
    EMP_ASSIGN_OR_RETURN(u.phone, keys_.aead.Open(row.phone_enc, PhoneContext(row.id)));
  }
  u.roles = SplitRoles(row.roles);
  u.created_at = row.created_at;
  u.updated_at = row.updated_at;
  return u;
}

Result<User> Accounts::Register(const NewUser& in, FieldErrors* errors) {
  FieldErrors local;
  if (!errors) errors = &local;
  std::string email = Trim(in.email);
  std::string name = Trim(in.name);
  Expect(errors, "email", CheckEmail(email));
  Expect(errors, "password", in.password.empty() ? "is required" : CheckPassword(in.password, email));
  Expect(errors, "name", CheckText(name, 200, true));
  for (const auto& r : in.roles) {
    if (!IsKnownRole(r)) Expect(errors, "roles", "unknown role '" + r + "' (customer, support or admin)");
  }
  if (!errors->empty()) return ValidationFailed(errors);

  std::string bidx = EmailIndex(email);
  EMP_ASSIGN_OR_RETURN(auto existing, store_.FindUserByEmail(bidx));
  if (existing) return AlreadyExists("an account with this email already exists");

  EMP_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(in.password, options_.password_cost));
  int64_t now = UnixMillis(clock_.WallNow());
  UserRow row;
  row.id = NewUuidV7();
  row.email_bidx = bidx;
  EMP_ASSIGN_OR_RETURN(row.email_enc, keys_.aead.Seal(email, EmailContext(row.id)));
  EMP_ASSIGN_OR_RETURN(row.name_enc, keys_.aead.Seal(name, NameContext(row.id)));
  row.password_hash = std::move(hash);
  row.roles = JoinRoles(in.roles.empty() ? std::vector<std::string>{"customer"} : in.roles);
  row.created_at = row.updated_at = now;
  Status s = store_.InsertUser(row, {UserRegistered(row.id, SplitRoles(row.roles), now)});
  if (s.code() == Code::kAlreadyExists) return AlreadyExists("an account with this email already exists");
  EMP_RETURN_IF_ERROR(s);
  log::Info("user registered", {{"user_id", row.id}});
  return Open(row);
}

Result<User> Accounts::Authenticate(const std::string& email, const std::string& password,
                                    const std::string& ip, Millis* retry_after) {
  std::string bidx = EmailIndex(email);
  EMP_ASSIGN_OR_RETURN(auto wait, throttle_.Check(bidx, ip));
  if (wait) {
    if (retry_after) *retry_after = *wait;
    return ResourceExhausted("too many failed sign-in attempts");
  }
  EMP_ASSIGN_OR_RETURN(auto row, store_.FindUserByEmail(bidx));
  bool ok = password.size() <= kMaxPasswordLength &&
            crypto::VerifyPassword(row ? row->password_hash : dummy_hash_, password) && row.has_value();
  if (!ok) {
    EMP_RETURN_IF_ERROR(throttle_.RecordFailure(bidx, ip));
    if (row) log::Info("sign-in failed", {{"user_id", row->id}});
    return Unauthenticated("invalid email or password");
  }
  EMP_RETURN_IF_ERROR(throttle_.RecordSuccess(bidx));
  if (crypto::NeedsRehash(row->password_hash, options_.password_cost)) {
    // Cost was raised since this hash was made: upgrade it while the password is at hand.
    auto rehash = crypto::HashPassword(password, options_.password_cost);
    if (rehash.ok()) {
      UserRow updated = *row;
      updated.password_hash = std::move(rehash).value();
      if (!store_.UpdateUser(updated, {}).ok()) log::Warn("password rehash failed", {{"user_id", row->id}});
    }
  }
  return Open(*row);
}

Result<User> Accounts::Get(const std::string& user_id) {
  EMP_ASSIGN_OR_RETURN(auto row, store_.FindUser(user_id));
  if (!row) return NotFound("user not found");
  return Open(*row);
}

Result<User> Accounts::UpdateProfile(const std::string& user_id, const ProfileChange& change,
                                     FieldErrors* errors) {
  FieldErrors local;
  if (!errors) errors = &local;
  ValidateProfileChange(change, errors);
  if (!errors->empty()) return ValidationFailed(errors);
  std::optional<std::string> name, phone;
  if (change.name) name = Trim(*change.name);
  if (change.phone) phone = Trim(*change.phone);
  EMP_ASSIGN_OR_RETURN(auto row, store_.FindUser(user_id));
  if (!row) return NotFound("user not found");
  std::vector<std::string> fields;
  if (name) {
    EMP_ASSIGN_OR_RETURN(row->name_enc, keys_.aead.Seal(*name, NameContext(user_id)));
    fields.push_back("name");
  }
  if (phone) {
    if (phone->empty()) {
      row->phone_enc.clear();
    } else {
      EMP_ASSIGN_OR_RETURN(row->phone_enc, keys_.aead.Seal(*phone, PhoneContext(user_id)));
    }
    fields.push_back("phone");
  }
  if (fields.empty()) return Open(*row);
  row->updated_at = UnixMillis(clock_.WallNow());
  EMP_RETURN_IF_ERROR(store_.UpdateUser(*row, {UserUpdated(user_id, fields)}));
  return Open(*row);
}

Result<Address> Accounts::AddAddress(const std::string& user_id, const Address& in, FieldErrors* errors) {
  FieldErrors local;
  if (!errors) errors = &local;
  Address a;
  a.name = Trim(in.name);
  a.line1 = Trim(in.line1);
  a.line2 = Trim(in.line2);
  a.city = Trim(in.city);
  a.region = Trim(in.region);
  a.postal_code = Trim(in.postal_code);
  a.country = Trim(in.country);
  Expect(errors, "name", CheckText(a.name, 200, false));
  Expect(errors, "line1", CheckText(a.line1, 200, true));
  Expect(errors, "line2", CheckText(a.line2, 200, false));
  Expect(errors, "city", CheckText(a.city, 100, true));
  Expect(errors, "region", CheckText(a.region, 100, false));
  Expect(errors, "postal_code", CheckText(a.postal_code, 20, true));
  if (a.country.size() != 2 || !std::isupper(static_cast<unsigned char>(a.country[0])) ||
      !std::isupper(static_cast<unsigned char>(a.country[1]))) {
    Expect(errors, "country", "must be an ISO 3166-1 alpha-2 code such as \"DE\"");
  }
  if (!errors->empty()) return ValidationFailed(errors);
  a.id = NewUuidV7();
  a.created_at = UnixMillis(clock_.WallNow());
  boost::json::object fields{{"name", a.name},      {"line1", a.line1},   {"line2", a.line2},
                             {"city", a.city},      {"region", a.region}, {"postal_code", a.postal_code},
                             {"country", a.country}};
  EMP_ASSIGN_OR_RETURN(std::string sealed, keys_.aead.Seal(json::Dump(fields), AddressContext(a.id)));
  EMP_RETURN_IF_ERROR(store_.InsertAddress({a.id, user_id, sealed, a.created_at}, options_.max_addresses));
  return a;
}

Result<std::vector<Address>> Accounts::Addresses(const std::string& user_id) {
  EMP_ASSIGN_OR_RETURN(auto rows, store_.ListAddresses(user_id));
  std::vector<Address> out;
  for (const auto& r : rows) {
    EMP_ASSIGN_OR_RETURN(std::string plain, keys_.aead.Open(r.fields_enc, AddressContext(r.id)));
    EMP_ASSIGN_OR_RETURN(auto doc, json::Parse(plain));
    const auto& o = doc.as_object();
    auto get = [&](const char* k) {
      auto v = o.if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    out.push_back({r.id, get("name"), get("line1"), get("line2"), get("city"), get("region"),
                   get("postal_code"), get("country"), r.created_at});
  }
  return out;
}

Status Accounts::DeleteAddress(const std::string& user_id, const std::string& address_id) {
  EMP_ASSIGN_OR_RETURN(bool deleted, store_.DeleteAddress(user_id, address_id));
  return deleted ? Status::Ok() : NotFound("address not found");
}

Result<UserPage> Accounts::List(const std::string& page_token, int page_size) {
  std::string after;
  if (!page_token.empty()) {
    auto decoded = crypto::Base64UrlDecode(page_token);
    if (!decoded.ok()) return InvalidArgument("page_token is not valid");
    after = std::move(decoded).value();
  }
  page_size = std::clamp(page_size, 1, 100);
  EMP_ASSIGN_OR_RETURN(auto rows, store_.ListUsers(after, page_size + 1));
  UserPage page;
  for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(page_size); ++i) {
    EMP_ASSIGN_OR_RETURN(User u, Open(rows[i]));
    page.users.push_back(std::move(u));
  }
  if (rows.size() > static_cast<size_t>(page_size))
    page.next_page_token = crypto::Base64UrlEncode(page.users.back().id);
  return page;
}

}  // namespace emporium::identity
