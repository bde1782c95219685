#include "platform/config/config.h"

#include <charconv>
#include <cstdlib>
#include <iostream>

namespace emporium::config {
namespace {

constexpr std::string_view kEnvPrefix = "EMPORIUM_";

std::string TypeName(Type t) {
  switch (t) {
    case Type::kString: return "a string";
    case Type::kInt: return "an integer";
    case Type::kBool: return "true or false";
    case Type::kDuration: return "a duration such as 250ms, 10s, 5m";
    case Type::kList: return "a comma-separated list";
  }
  return "a value";
}

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool ParseBool(std::string_view s, bool* out) {
  if (s == "true" || s == "1" || s == "yes")
    *out = true;
  else if (s == "false" || s == "0" || s == "no")
    *out = false;
  else
    return false;
  return true;
}

std::string Validate(const Key& key, std::string_view value) {
  switch (key.type) {
    case Type::kInt: {
      int64_t v;
      if (!ParseInt(value, &v)) return "expected " + TypeName(key.type);
      break;
    }
    case Type::kBool: {
      bool b;
      if (!ParseBool(value, &b)) return "expected " + TypeName(key.type);
      break;
    }
    case Type::kDuration:
      if (!ParseDuration(value).ok()) return "expected " + TypeName(key.type);
      break;
    default: break;
  }
  return key.check ? key.check(value) : std::string();
}

}  // namespace

std::string Config::EnvName(std::string_view key) {
  std::string out(kEnvPrefix);
  for (char c : key) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<Millis> ParseDuration(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  int64_t n = 0;
  if (i == 0 || !ParseInt(s.substr(0, i), &n)) return InvalidArgument("bad duration: " + std::string(s));
  std::string_view unit = s.substr(i);
  if (unit == "ms") return Millis(n);
  if (unit == "s") return Millis(n * 1000);
  if (unit == "m") return Millis(n * 60'000);
  if (unit == "h") return Millis(n * 3'600'000);
  return InvalidArgument("bad duration unit in '" + std::string(s) + "' (use ms, s, m or h)");
}

Result<Config> Config::Load(std::span<const Key> schema, const std::vector<std::string>& args,
                            const std::vector<std::string>& env, std::vector<std::string>* positional) {
  Config cfg;
  std::map<std::string, const Key*, std::less<>> by_name;
  std::map<std::string, const Key*, std::less<>> by_env;
  for (const Key& k : schema) {
    by_name[k.name] = &k;
    by_env[EnvName(k.name)] = &k;
    cfg.values_[k.name] = Entry{k.default_value, "default", k.type};
  }
  for (const std::string& kv : env) {
    if (!kv.starts_with(kEnvPrefix)) continue;
    size_t eq = kv.find('=');
    std::string name = kv.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    auto it = by_env.find(name);
    if (it == by_env.end()) {
      return InvalidArgument("unknown environment variable " + name +
                             " (EMPORIUM_* variables are configuration; unset it or fix its name; "
                             "see `emporium help`)");
    }
    if (std::string err = Validate(*it->second, value); !err.empty()) {
      return InvalidArgument("environment variable " + name + "='" + value + "': " + err);
    }
    cfg.values_[it->second->name] = Entry{value, "env", it->second->type};
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      if (!positional) return InvalidArgument("unexpected argument '" + a + "'");
      positional->push_back(a);
      continue;
    }
    std::string body = a.substr(2);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    auto it = by_name.find(name);
    if (it == by_name.end()) return InvalidArgument("unknown flag --" + name + " (see `emporium help`)");
    std::string value;
    if (eq != std::string::npos) {
      value = body.substr(eq + 1);
    } else if (it->second->type == Type::kBool) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return InvalidArgument("flag --" + name + " needs a value: " + TypeName(it->second->type));
    }
    if (std::string err = Validate(*it->second, value); !err.empty()) {
      return InvalidArgument("flag --" + name + "='" + value + "': " + err);
    }
    cfg.values_[name] = Entry{value, "flag", it->second->type};
  }
  return cfg;
}

const std::string& Config::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    std::cerr << "BUG: config key '" << name << "' is not declared in the schema\n";
    std::abort();
  }
  return it->second.value;
}

int64_t Config::Int(std::string_view name) const {
  int64_t v = 0;
  ParseInt(Get(name), &v);
  return v;
}

bool Config::Bool(std::string_view name) const {
  bool b = false;
  ParseBool(Get(name), &b);
  return b;
}

Millis Config::Duration(std::string_view name) const {
  auto d = ParseDuration(Get(name));
  return d.ok() ? *d : Millis(0);
}

std::vector<std::string> Config::List(std::string_view name) const {
  std::vector<std::string> out;
  std::string_view s = Get(name);
  while (!s.empty()) {
    size_t c = s.find(',');
    std::string_view item = s.substr(0, c);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

std::string_view Config::Source(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string_view("unknown") : it->second.source;
}

std::string Config::Usage(std::span<const Key> schema) {
  std::string out;
  for (const Key& k : schema) {
    out += "  --" + k.name + " (" + EnvName(k.name) + ")";
    if (!k.default_value.empty()) out += " [default: " + k.default_value + "]";
    out += "\n      " + k.help + "\n";
  }
  return out;
}

}  // namespace emporium::config
