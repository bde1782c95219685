#include "services/search/ltr.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <sstream>

#include "platform/log/log.h"
#include "platform/ml/registry/registry.h"

namespace emporium::search {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      w += static_cast<char>(std::tolower(c));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

std::vector<uint32_t> Trigrams(const std::vector<std::string>& words) {
  std::string s = " ";
  for (const std::string& w : words) s += w + ' ';
  std::vector<uint32_t> out;
  for (size_t i = 0; i + 3 <= s.size(); ++i) {
    out.push_back(static_cast<uint32_t>(static_cast<unsigned char>(s[i])) << 16 |
                  static_cast<uint32_t>(static_cast<unsigned char>(s[i + 1])) << 8 |
                  static_cast<unsigned char>(s[i + 2]));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool HasDigit(const std::string& w) {
  return std::any_of(w.begin(), w.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Equal, or one a prefix of the other with at least four letters in common (drill / drills /
// driller): a crude stemmer that needs no language.
bool Similar(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  return shorter.size() >= 4 && longer.compare(0, shorter.size(), shorter) == 0;
}

bool InWords(const std::string& w, const std::vector<std::string>& words, bool loose) {
  return std::any_of(words.begin(), words.end(),
                     [&](const std::string& t) { return loose ? Similar(w, t) : w == t; });
}

float Reciprocal(uint32_t rank) {
  return rank ? 1.0f / static_cast<float>(rank) : 0.0f;
}

}  // namespace

const std::vector<std::string>& RankFeatureNames() {
  static const std::vector<std::string> names = {"bm25",
                                                 "keyword_rr",
                                                 "similarity",
                                                 "semantic_rr",
                                                 "query_words",
                                                 "title_words",
                                                 "exact_coverage",
                                                 "prefix_coverage",
                                                 "bigram_coverage",
                                                 "number_coverage",
                                                 "trigram_jaccard",
                                                 "last_word_match",
                                                 "first_word_match",
                                                 "in_stock",
                                                 "log_price",
                                                 "rating",
                                                 "log_rating_count"};
  return names;
}

const std::vector<std::string>& PersonalRankFeatureNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all = RankFeatureNames();
    all.insert(all.end(), PersonalFeatureNames().begin(), PersonalFeatureNames().end());
    return all;
  }();
  return names;
}

QueryText::QueryText(std::string_view text) : words(Words(text)), trigrams(Trigrams(words)) {}

void AppendRankFeatures(const QueryText& query, const Hit& hit, std::vector<float>& out) {
  const std::vector<std::string> title = Words(hit.title);
  const std::vector<std::string>& q = query.words;
  size_t exact = 0, loose = 0, numbers = 0, numbers_found = 0, bigrams = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    const bool e = InWords(q[i], title, false);
    exact += e;
    loose += e || InWords(q[i], title, true);
    if (HasDigit(q[i])) {
      ++numbers;
      numbers_found += e;
    }
    if (i + 1 < q.size()) {
      for (size_t j = 0; j + 1 < title.size(); ++j) {
        if (Similar(q[i], title[j]) && Similar(q[i + 1], title[j + 1])) {
          ++bigrams;
          break;
        }
      }
    }
  }
  const std::vector<uint32_t> t3 = Trigrams(title);
  size_t common = 0;
  for (size_t i = 0, j = 0; i < query.trigrams.size() && j < t3.size();) {
    if (query.trigrams[i] == t3[j]) {
      ++common, ++i, ++j;
    } else if (query.trigrams[i] < t3[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  const size_t trigram_union = query.trigrams.size() + t3.size() - common;
  const float n = static_cast<float>(std::max<size_t>(q.size(), 1));
  out.push_back(hit.keyword_rank ? static_cast<float>(hit.bm25) : kMissing);
  out.push_back(Reciprocal(hit.keyword_rank));
  out.push_back(hit.has_similarity ? hit.similarity : kMissing);
  out.push_back(Reciprocal(hit.semantic_rank));
  out.push_back(static_cast<float>(q.size()));
  out.push_back(static_cast<float>(title.size()));
  out.push_back(static_cast<float>(exact) / n);
  out.push_back(static_cast<float>(loose) / n);
  out.push_back(q.size() > 1 ? static_cast<float>(bigrams) / static_cast<float>(q.size() - 1) : kMissing);
  out.push_back(numbers ? static_cast<float>(numbers_found) / static_cast<float>(numbers) : kMissing);
  out.push_back(trigram_union ? static_cast<float>(common) / static_cast<float>(trigram_union) : 0.0f);
  out.push_back(q.empty() ? kMissing : static_cast<float>(InWords(q.back(), title, true)));
  out.push_back(q.empty() ? kMissing : static_cast<float>(InWords(q.front(), title, true)));
  out.push_back(hit.in_stock ? 1.0f : 0.0f);
  out.push_back(static_cast<float>(std::log1p(static_cast<double>(std::max<int64_t>(hit.price, 0)))));
  out.push_back(hit.rating_count > 0 ? static_cast<float>(hit.rating) : kMissing);
  out.push_back(static_cast<float>(std::log1p(static_cast<double>(std::max<int64_t>(hit.rating_count, 0)))));
}

float RankLabel(double relevance) {
  return static_cast<float>(std::clamp(std::lround((relevance - 1.0) * 3.0), 0L, 6L));
}

ml::TrainParams RankerTrainParams() {
  ml::TrainParams p;
  p.objective = "rank:ndcg";
  p.eval_metric = "ndcg@10";
  p.rounds = 300;
  p.early_stopping_rounds = 30;
  p.max_depth = 6;
  p.eta = 0.1;
  p.subsample = 0.8;
  p.colsample_bytree = 0.9;
  p.min_child_weight = 1;
  p.extra = {{"tree_method", "hist"}};
  return p;
}

Result<std::shared_ptr<const RankerModel>> LoadRankerModel(const ml::ModelStore& store,
                                                           const ml::Artifact& artifact) {
  EMP_ASSIGN_OR_RETURN(std::string features, store.Read(artifact, "features.txt"));
  std::vector<std::string> names;
  std::istringstream in(features);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) names.push_back(line);
  }
  if (names != RankFeatureNames() && names != PersonalRankFeatureNames()) {
    return FailedPrecondition("search ranker " + artifact.version +
                              " was trained on other features than this build computes; retrain it "
                              "(emporium train search)");
  }
  EMP_ASSIGN_OR_RETURN(std::string bytes, store.Read(artifact, "model.ubj"));
  EMP_ASSIGN_OR_RETURN(auto booster, ml::Booster::Load(bytes, 1));
  if (booster->num_features() != names.size()) {
    return FailedPrecondition("search ranker " + artifact.version + " has " +
                              std::to_string(booster->num_features()) + " features, its list " +
                              std::to_string(names.size()));
  }
  auto model = std::make_shared<RankerModel>();
  model->version = artifact.version;
  model->personal = names == PersonalRankFeatureNames();
  model->booster = std::move(booster);
  return std::shared_ptr<const RankerModel>(std::move(model));
}

std::vector<float> RankRows(const QueryText& query, const std::vector<Hit>& hits, size_t n, bool personal,
                            const UserProfile* profile, const RecentSimilarity& similarity) {
  n = std::min(n, hits.size());
  std::vector<float> recent(n, kMissing);
  if (personal && profile && !profile->empty() && similarity) {
    std::vector<std::string> ids;
    ids.reserve(n);
    for (size_t i = 0; i < n; ++i) ids.push_back(hits[i].product_id);
    const std::vector<std::string> seen(profile->recent().begin(), profile->recent().end());
    std::vector<float> found = similarity(seen, ids);
    if (found.size() == n) recent = std::move(found);
  }
  std::vector<float> rows;
  rows.reserve(n * (personal ? PersonalRankFeatureNames() : RankFeatureNames()).size());
  for (size_t i = 0; i < n; ++i) {
    AppendRankFeatures(query, hits[i], rows);
    if (personal) AppendPersonalFeatures(profile, hits[i], recent[i], rows);
  }
  return rows;
}

void LearnedRanker::SetPersonalization(const ProfileBook* profiles, RecentSimilarity similarity) {
  profiles_ = profiles;
  similarity_ = std::move(similarity);
}

std::string LearnedRanker::Rerank(const Query& query, const std::optional<auth::Principal>& principal,
                                  std::vector<Hit>& hits) {
  std::shared_ptr<const RankerModel> m = model();
  if (!m || query.mode == SearchMode::kKeyword || hits.empty()) return rules_.Rerank(query, principal, hits);
  const size_t n = std::min(hits.size(), m->personal ? kClickRerankDepth : kRerankDepth);
  std::optional<UserProfile> profile;
  if (m->personal && principal && profiles_) profile = profiles_->Get(principal->subject);
  const bool personalized = profile && !profile->empty();
  const std::vector<float> rows =
      RankRows(QueryText(query.text), hits, n, m->personal, personalized ? &*profile : nullptr, similarity_);
  auto scores = m->booster->Predict(rows);
  if (!scores.ok() || scores->size() != n) {
    log::Error("search ranker: prediction failed, business rules used",
               {{"version", m->version}, {"error", scores.status().ToString()}});
    return rules_.Rerank(query, principal, hits);
  }
  for (size_t i = 0; i < n; ++i) hits[i].score = (*scores)[i];
  std::stable_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n),
                   [](const Hit& a, const Hit& b) { return a.score > b.score; });
  std::stable_partition(hits.begin(), hits.end(), [](const Hit& h) { return h.in_stock; });
  return "ltr@" + m->version + (personalized ? "+personal" : "");
}

size_t LearnedRanker::feature_depth() const {
  return model() ? kRerankDepth : 0;
}

void LearnedRanker::Swap(std::shared_ptr<const RankerModel> model) {
  std::lock_guard lock(mu_);
  model_ = std::move(model);
}

std::shared_ptr<const RankerModel> LearnedRanker::model() const {
  std::lock_guard lock(mu_);
  return model_;
}

std::string CandidateCapture::Rerank(const Query& query, const std::optional<auth::Principal>&,
                                     std::vector<Hit>& hits) {
  text = query.text;
  this->hits.assign(hits.begin(),
                    hits.begin() + static_cast<std::ptrdiff_t>(std::min(hits.size(), kRerankDepth)));
  return "capture";
}

ml::Dataset Subset(const RankExamples& examples, const std::vector<size_t>& groups) {
  const ml::Dataset& all = examples.data;
  ml::Dataset out;
  out.cols = all.cols;
  out.feature_names = all.feature_names;
  for (size_t g : groups) {
    const size_t begin = examples.offsets[g], end = examples.offsets[g + 1];
    out.values.insert(out.values.end(), all.values.begin() + static_cast<std::ptrdiff_t>(begin * all.cols),
                      all.values.begin() + static_cast<std::ptrdiff_t>(end * all.cols));
    out.labels.insert(out.labels.end(), all.labels.begin() + static_cast<std::ptrdiff_t>(begin),
                      all.labels.begin() + static_cast<std::ptrdiff_t>(end));
    out.groups.push_back(static_cast<uint32_t>(end - begin));
  }
  return out;
}

}  // namespace emporium::search
