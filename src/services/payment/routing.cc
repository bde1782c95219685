#include "services/payment/routing.h"

#include <algorithm>
#include <charconv>

namespace emporium::payment {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    size_t j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) return out;
    i = j + 1;
  }
}

bool ParseAmount(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

}  // namespace

Result<Routing> Routing::Parse(const std::vector<std::string>& rules, const std::vector<std::string>& known) {
  Routing r;
  for (const std::string& text : rules) {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos)
      return InvalidArgument("routing rule '" + text + "' has no ':<providers>'");
    Rule rule;
    for (const std::string& c : Split(text.substr(0, colon), ';')) {
      Condition cond;
      if (c == "*") {
        cond.kind = Condition::Kind::kAny;
      } else if (c.rfind("amount<", 0) == 0 && ParseAmount(c.substr(7), &cond.amount)) {
        cond.kind = Condition::Kind::kAmountBelow;
      } else if (c.rfind("amount>=", 0) == 0 && ParseAmount(c.substr(8), &cond.amount)) {
        cond.kind = Condition::Kind::kAmountAtLeast;
      } else if (c.rfind("method=", 0) == 0 && c.size() > 7) {
        cond.kind = Condition::Kind::kMethod;
        cond.text = c.substr(7);
      } else if (c.size() == 3 &&
                 std::all_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
        cond.kind = Condition::Kind::kCurrency;
        cond.text = c;
      } else {
        return InvalidArgument("routing rule '" + text + "': unknown condition '" + c + "'");
      }
      rule.conditions.push_back(std::move(cond));
    }
    for (const std::string& p : Split(text.substr(colon + 1), '|')) {
      if (std::find(known.begin(), known.end(), p) == known.end()) {
        return InvalidArgument("routing rule '" + text + "' names provider '" + p +
                               "', which is not enabled");
      }
      rule.providers.push_back(p);
    }
    r.rules_.push_back(std::move(rule));
  }
  return r;
}

std::vector<std::string> Routing::Route(const RouteInput& in) const {
  for (const Rule& rule : rules_) {
    bool match = std::all_of(rule.conditions.begin(), rule.conditions.end(), [&](const Condition& c) {
      switch (c.kind) {
        case Condition::Kind::kAny: return true;
        case Condition::Kind::kCurrency: return in.currency == c.text;
        case Condition::Kind::kAmountBelow: return in.amount < c.amount;
        case Condition::Kind::kAmountAtLeast: return in.amount >= c.amount;
        case Condition::Kind::kMethod: return in.method == c.text;
      }
      return false;
    });
    if (match) return rule.providers;
  }
  return {};
}

}  // namespace emporium::payment
