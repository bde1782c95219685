// Configuration: command-line flags > EMPORIUM_* environment variables > defaults.
//
// Every key is declared in a schema (the runtime's keys plus each module's). Load() validates
// everything at start-up: an unknown flag, an unknown EMPORIUM_* variable or a bad value fails
// with a message that names the key, where it came from and what is expected. Key "http-port"
// is the flag --http-port=N (or --http-port N) and the variable EMPORIUM_HTTP_PORT.
// A loaded Config is immutable and safe to read from many threads.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::config {

enum class Type { kString, kInt, kBool, kDuration, kList };

struct Key {
  std::string name;
  Type type = Type::kString;
  std::string default_value;
  std::string help;
  // Extra check on the raw value; return an error message, or empty when valid.
  std::function<std::string(std::string_view)> check = nullptr;
};

// "8080" → int; "true|false|1|0|yes|no"; durations "250ms", "10s", "5m", "1h"; lists "a,b".
Result<Millis> ParseDuration(std::string_view s);

class Config {
 public:
  // args: the arguments after the sub-command. Non-flag arguments go to *positional when given,
  // otherwise they are an error. env: "NAME=value" strings (environ).
  static Result<Config> Load(std::span<const Key> schema, const std::vector<std::string>& args,
                             const std::vector<std::string>& env,
                             std::vector<std::string>* positional = nullptr);

  // The values of keys declared in the schema; asking for an undeclared key is a programming
  // error (aborts).
  const std::string& Get(std::string_view name) const;
  int64_t Int(std::string_view name) const;
  bool Bool(std::string_view name) const;
  Millis Duration(std::string_view name) const;
  std::vector<std::string> List(std::string_view name) const;
  // "flag", "env" or "default".
  std::string_view Source(std::string_view name) const;

  // A usage text listing each key with its flag, variable, default and help.
  static std::string Usage(std::span<const Key> schema);
  static std::string EnvName(std::string_view key);

 private:
  struct Entry {
    std::string value;
    std::string_view source;
    Type type;
  };
  std::map<std::string, Entry, std::less<>> values_;
};

}  // namespace emporium::config
