#include "services/recommend/interactions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <string_view>

#include "platform/core/xoshiro.h"

namespace emporium::recommend {
namespace {

// Fields of one CSV line (RFC 4180 quotes; no embedded newlines in these files).
std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

int Column(const std::vector<std::string>& header, std::initializer_list<std::string_view> names) {
  for (size_t i = 0; i < header.size(); ++i)
    for (std::string_view n : names)
      if (header[i] == n) return static_cast<int>(i);
  return -1;
}

}  // namespace

int32_t Interactions::UserIndex(const std::string& id) {
  auto [it, added] = user_index_.emplace(id, users());
  if (added) user_ids.push_back(id);
  return it->second;
}

int32_t Interactions::ItemIndex(const std::string& id) {
  auto [it, added] = item_index_.emplace(id, items());
  if (added) item_ids.push_back(id);
  return it->second;
}

Result<Interactions> ReadInteractionsCsv(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return NotFound("cannot read " + file.string());
  std::string line;
  if (!std::getline(in, line)) return InvalidArgument(file.string() + ": empty file");
  const std::vector<std::string> header = Fields(line);
  const int user = Column(header, {"userId", "user", "user_id"});
  const int item = Column(header, {"movieId", "item", "item_id", "product_id"});
  const int time = Column(header, {"timestamp", "time"});
  if (user < 0 || item < 0)
    return InvalidArgument(file.string() +
                           ": the header needs a user column (userId, user) and an item column "
                           "(movieId, item, product_id)");
  const size_t needed = static_cast<size_t>(std::max({user, item, time})) + 1;
  Interactions out;
  for (size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> f = Fields(line);
    const auto where = [&] { return file.string() + " line " + std::to_string(number); };
    if (f.size() < needed)
      return InvalidArgument(where() + ": " + std::to_string(needed) + " fields expected");
    const std::string& u = f[static_cast<size_t>(user)];
    const std::string& i = f[static_cast<size_t>(item)];
    if (u.empty() || i.empty()) return InvalidArgument(where() + ": empty user or item");
    Interaction row{.user = out.UserIndex(u), .item = out.ItemIndex(i)};
    if (time >= 0) {
      const std::string& t = f[static_cast<size_t>(time)];
      int64_t seconds = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
      if (ec != std::errc() || end != t.data() + t.size())
        return InvalidArgument(where() + ": timestamp '" + t + "' is not whole seconds");
      row.at_ms = seconds * 1000;
    }
    out.rows.push_back(row);
  }
  return out;
}

Split SplitPerUser(const Interactions& data, double train_share, uint64_t seed) {
  return SplitPerUser(data.rows, data.users(), train_share, seed);
}

Split SplitPerUser(const std::vector<Interaction>& rows, int32_t users, double train_share, uint64_t seed) {
  std::vector<std::vector<int32_t>> items(static_cast<size_t>(users));
  for (const Interaction& r : rows) items[static_cast<size_t>(r.user)].push_back(r.item);
  // Per user, the set of items that go to train: a Fisher-Yates shuffle of the sorted distinct
  // items from a stream seeded by (seed, user), so a user's split does not depend on the others.
  std::vector<std::vector<int32_t>> train_items(items.size());
  for (size_t u = 0; u < items.size(); ++u) {
    std::vector<int32_t>& list = items[u];
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    Xoshiro256 rng(seed * 0x9E3779B97F4A7C15ull + u);
    for (size_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[rng.Next() % i]);
    size_t keep = static_cast<size_t>(std::lround(train_share * static_cast<double>(list.size())));
    keep = std::clamp<size_t>(keep, 1, list.size());
    train_items[u].assign(list.begin(), list.begin() + static_cast<ptrdiff_t>(keep));
    std::sort(train_items[u].begin(), train_items[u].end());
  }
  Split split;
  for (const Interaction& r : rows) {
    const auto& t = train_items[static_cast<size_t>(r.user)];
    (std::binary_search(t.begin(), t.end(), r.item) ? split.train : split.test).push_back(r);
  }
  return split;
}

Result<ml::CsrMatrix> UserItemMatrix(const std::vector<Interaction>& rows, int32_t users, int32_t items) {
  std::vector<int32_t> r, c;
  std::vector<float> v;
  r.reserve(rows.size());
  c.reserve(rows.size());
  v.reserve(rows.size());
  for (const Interaction& x : rows) {
    r.push_back(x.user);
    c.push_back(x.item);
    v.push_back(x.weight);
  }
  return ml::CsrMatrix::FromTriplets(users, items, r, c, v);
}

std::vector<int32_t> LatestSession(std::vector<Interaction> rows, int64_t gap_ms) {
  std::sort(rows.begin(), rows.end(),
            [](const Interaction& a, const Interaction& b) { return a.at_ms > b.at_ms; });
  std::vector<int32_t> out;
  for (size_t n = 0; n < rows.size(); ++n) {
    if (n > 0 && rows[n - 1].at_ms - rows[n].at_ms >= gap_ms) break;
    if (std::find(out.begin(), out.end(), rows[n].item) == out.end()) out.push_back(rows[n].item);
  }
  return out;
}

}  // namespace emporium::recommend
