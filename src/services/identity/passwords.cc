#include "services/identity/passwords.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>

namespace emporium::identity {
namespace {

// Passwords of 10+ characters from public breach top lists (lowercased).
constexpr std::string_view kCommonPasswords[] = {
    "1234567890",    "12345678910",  "123456789a",    "0987654321",   "1111111111",   "0000000000",
    "1234512345",    "1q2w3e4r5t",   "1qaz2wsx3edc",  "qwertyuiop",   "qwerty1234",   "qwerty12345",
    "qwerty123456",  "asdfghjkl1",   "asdfghjkl;",    "zxcvbnm123",   "password12",   "password123",
    "password1234",  "passw0rd123",  "iloveyou12",    "iloveyou123",  "abcdefghij",   "abcd123456",
    "abc1234567",    "a123456789",   "q1w2e3r4t5",    "q1w2e3r4t5y6", "1q2w3e4r5t6y", "zaq12wsxcde3",
    "123qweasdzxc",  "qweasdzxc123", "football123",   "baseball123",  "princess123",  "sunshine123",
    "superman123",   "michael123",   "jennifer123",   "welcome123",   "welcome1234",  "letmein123",
    "trustno1234",   "monkey12345",  "dragon12345",   "master12345",  "starwars123",  "pokemon123",
    "charlie123",    "computer123",  "internet123",   "samsung123",   "whatever123",  "changeme123",
    "administrator", "admin12345",   "admin123456",   "adminadmin",   "rootroot12",   "testtest12",
    "test123456",    "qazwsxedc123", "qazwsxedcrfv",  "1234qwerasdf", "asdf123456",   "asdfasdfasdf",
    "password!1",    "p@ssw0rd123",  "p@ssword123",   "123123123123", "1212121212",   "1231231231",
    "5555555555",    "7777777777",   "9876543210",    "987654321a",   "11223344556",  "1122334455",
    "123654789",     "147258369",    "1478523690",    "3692581470",   "7894561230",   "1234567890a",
    "lovelove12",    "loveyou123",   "iloveyou1234",  "mylove1234",   "chocolate1",   "chocolate123",
    "butterfly1",    "basketball",   "basketball1",   "football12",   "soccer1234",   "liverpool1",
    "liverpool123",  "chelsea123",   "arsenal123",    "manchester",   "barcelona1",   "motherfucker",
    "fuckyou123",    "qwertyuiop1",  "qwertyuiop123", "asdfghjkl123", "zxcvbnm1234",  "1qazxsw23edc",
    "!qaz2wsx",      "emporium123",  "computer12",    "sunflower1",   "spiderman1",   "spiderman123",
    "blink182182",   "elizabeth1",   "christopher",   "jessica123",   "jordan2323",   "cookie1234",
    "summer2020",    "summer2021",   "summer2022",    "summer2023",   "summer2024",   "summer2025",
    "winter2020",    "winter2021",   "winter2022",    "winter2023",   "winter2024",   "winter2025",
    "spring2024",    "autumn2024",   "password2020",  "password2021", "password2022", "password2023",
    "password2024",  "password2025", "password2026",  "welcome2024",  "welcome2025",
};

// Words that, padded with digits or symbols, are still guessed first.
constexpr std::string_view kCommonWords[] = {
    "password", "passw0rd", "p@ssw0rd",   "p@ssword", "qwerty",   "qwertyuiop",    "asdfgh",   "asdfghjkl",
    "zxcvbnm",  "iloveyou", "welcome",    "letmein",  "admin",    "administrator", "monkey",   "dragon",
    "football", "baseball", "basketball", "soccer",   "hockey",   "sunshine",      "princess", "superman",
    "batman",   "master",   "shadow",     "michael",  "jennifer", "jordan",        "charlie",  "starwars",
    "pokemon",  "computer", "internet",   "whatever", "changeme", "trustno",       "secret",   "abc",
    "abcdef",   "abcdefg",  "login",      "hello",    "freedom",  "flower",        "summer",   "winter",
    "spring",   "autumn",   "lovely",     "loveme",   "mustang",  "access",        "master",   "killer",
    "samsung",  "google",   "emporium",   "default",  "guest",    "root",          "test",     "user",
    "qazwsx",   "1qaz2wsx",
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsPadding(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) || std::ispunct(static_cast<unsigned char>(c));
}

}  // namespace

std::string CheckPassword(std::string_view password, std::string_view email) {
  if (password.size() < kMinPasswordLength) {
    return "must be at least " + std::to_string(kMinPasswordLength) + " characters";
  }
  if (password.size() > kMaxPasswordLength) {
    return "must be at most " + std::to_string(kMaxPasswordLength) + " bytes";
  }
  std::string lower = Lower(password);
  if (std::all_of(lower.begin(), lower.end(), [&](char c) { return c == lower[0]; })) {
    return "must not repeat one character";
  }
  static const std::unordered_set<std::string_view> kList(std::begin(kCommonPasswords),
                                                          std::end(kCommonPasswords));
  if (kList.count(lower)) return "is too common";
  // Strip padding on both ends: "!!Password2024" → "password".
  size_t b = 0, e = lower.size();
  while (b < e && IsPadding(lower[b])) ++b;
  while (e > b && IsPadding(lower[e - 1])) --e;
  std::string_view core = std::string_view(lower).substr(b, e - b);
  if (core.empty()) return {};  // digits/symbols only: long enough is the rule (list catches sequences)
  static const std::unordered_set<std::string_view> kWords(std::begin(kCommonWords), std::end(kCommonWords));
  if (kWords.count(core)) return "is too common (a common word with digits or symbols)";
  std::string local = Lower(email.substr(0, email.find('@')));
  if (!local.empty() && core == local) return "must not be based on the email address";
  return {};
}

}  // namespace emporium::identity
