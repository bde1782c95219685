// Internals shared by the index's write side (index.cc) and read side (index_query.cc): value
// slots, price buckets and the State behind Index. Not for use outside the index.
#pragma once

#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/search/index.h"

namespace emporium::search {

// Value slots.
inline constexpr Xapian::valueno kSlotId = 0;
inline constexpr Xapian::valueno kSlotPrice = 1;  // sortable_serialise(minor units)
inline constexpr Xapian::valueno kSlotCategory = 2;
inline constexpr Xapian::valueno kSlotBrand = 3;
inline constexpr Xapian::valueno kSlotPriceBucket = 4;
inline constexpr Xapian::valueno kSlotStock = 5;  // "1" / "0"
inline constexpr Xapian::valueno kSlotVersion = 6;
inline constexpr Xapian::valueno kSlotTitle = 7;         // for suggestions
inline constexpr Xapian::valueno kSlotEmbedText = 8;     // EmbeddingText: the product vectors' input
inline constexpr Xapian::valueno kSlotRating = 9;        // sortable_serialise(average), when rated
inline constexpr Xapian::valueno kSlotRatingCount = 10;  // sortable_serialise(count)
// What personalization calls the product's category: the id, or the path when it has none.
inline constexpr Xapian::valueno kSlotCategoryKey = 11;

inline constexpr size_t kMaxTermBytes = 200;  // Xapian's limit is 245

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.size() > kMaxTermBytes) out.resize(kMaxTermBytes);
  return out;
}

// Price facet bucket lower bounds (minor units); the last bucket is open.
inline constexpr int64_t kPriceEdges[] = {0, 1000, 2500, 5000, 10000, 25000, 50000, 100000};
inline constexpr size_t kPriceBuckets = std::size(kPriceEdges);

// The Xapian error as a kInternal Status.
Status FromXapian(const Xapian::Error& e);

struct Index::State {
  std::filesystem::path dir;
  std::string generation;

  mutable std::mutex write_mu;
  std::unique_ptr<Xapian::WritableDatabase> writer;
  Xapian::TermGenerator tg;
  bool dirty = false;
  IndexListener* listener = nullptr;

  std::atomic<uint64_t> commits{0};
  struct Reader {
    Xapian::Database db;
    uint64_t seen = 0;
  };
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Reader>> pool;

  // A read handle for one search, returned to the pool afterwards.
  class Lease {
   public:
    explicit Lease(State& s) : s_(s) {
      {
        std::lock_guard lock(s_.pool_mu);
        if (!s_.pool.empty()) {
          r_ = std::move(s_.pool.back());
          s_.pool.pop_back();
        }
      }
      uint64_t now = s_.commits.load();
      if (!r_) {
        r_ = std::make_unique<Reader>(Reader{Xapian::Database(s_.dir.string()), now});
      } else if (r_->seen != now) {
        r_->db.reopen();
        r_->seen = now;
      }
    }
    ~Lease() {
      if (!r_) return;
      std::lock_guard lock(s_.pool_mu);
      s_.pool.push_back(std::move(r_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Xapian::Database& db() { return r_->db; }
    // After DatabaseModifiedError: the writer committed twice during the read.
    void Reopen() { r_->db.reopen(); }

   private:
    State& s_;
    std::unique_ptr<Reader> r_;
  };
};

}  // namespace emporium::search
