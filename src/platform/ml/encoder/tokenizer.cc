#include "platform/ml/encoder/tokenizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>

#include "platform/core/json.h"

namespace emporium::ml {
namespace {

constexpr UChar32 kReplacement = 0xFFFD;

// The rules below are tokenizers' (BertNormalizer, BertPreTokenizer), character for character.
bool IsWhitespace(UChar32 c) {
  return c == '\t' || c == '\n' || c == '\r' || u_hasBinaryProperty(c, UCHAR_WHITE_SPACE);
}

// Unicode's "Other" (Cc, Cf, Cs, Co, Cn), except the three whitespace controls.
bool IsControl(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED: return true;
    default: return false;
  }
}

// ASCII punctuation includes symbols such as $ + < = > ^ ` | ~ that Unicode files under S*.
bool IsPunctuation(UChar32 c) {
  if (c < 128)
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return u_ispunct(c);
}

// The CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul, which are words of letters).
bool IsCjk(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::vector<UChar32> Decode(std::string_view s) {
  std::vector<UChar32> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t n = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    out.push_back(c < 0 ? kReplacement : c);
  }
  return out;
}

void AppendUtf8(UChar32 c, std::string* out) {
  char buf[4];
  int32_t len = 0;
  U8_APPEND_UNSAFE(buf, len, c);
  out->append(buf, static_cast<size_t>(len));
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

Result<int32_t> TokenId(const boost::json::value& v, std::string_view what) {
  if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() <= INT32_MAX)
    return static_cast<int32_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= INT32_MAX) return static_cast<int32_t>(v.get_uint64());
  return InvalidArgument("tokenizer.json: " + std::string(what) + " must be a token id");
}

// [CLS] and [SEP] from the post-processor: TemplateProcessing "[CLS] $A [SEP]" or BertProcessing.
Status SpecialIds(const boost::json::value& post, int32_t* cls, int32_t* sep) {
  const auto unsupported = FailedPrecondition("tokenizer.json: post_processor is not [CLS] $A [SEP]");
  if (!post.is_object()) return unsupported;
  const auto& o = post.get_object();
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) return unsupported;
  if (type->get_string() == "BertProcessing") {
    const auto* c = o.if_contains("cls");
    const auto* s = o.if_contains("sep");
    if (!c || !s || !c->is_array() || !s->is_array() || c->get_array().size() != 2 ||
        s->get_array().size() != 2) {
      return unsupported;
    }
    EMP_ASSIGN_OR_RETURN(*cls, TokenId(c->get_array()[1], "post_processor.cls"));
    EMP_ASSIGN_OR_RETURN(*sep, TokenId(s->get_array()[1], "post_processor.sep"));
    return Status::Ok();
  }
  if (type->get_string() != "TemplateProcessing") return unsupported;
  const auto* single = o.if_contains("single");
  const auto* specials = o.if_contains("special_tokens");
  if (!single || !single->is_array() || single->get_array().size() != 3 || !specials ||
      !specials->is_object()) {
    return unsupported;
  }
  const auto& parts = single->get_array();
  const auto* seq = parts[1].is_object() ? parts[1].get_object().if_contains("Sequence") : nullptr;
  if (!seq) return unsupported;
  auto special = [&](const boost::json::value& part, int32_t* out) -> Status {
    const auto* st = part.is_object() ? part.get_object().if_contains("SpecialToken") : nullptr;
    const auto* id = st && st->is_object() ? st->get_object().if_contains("id") : nullptr;
    if (!id || !id->is_string()) return unsupported;
    const auto* entry = specials->get_object().if_contains(id->get_string());
    const auto* ids = entry && entry->is_object() ? entry->get_object().if_contains("ids") : nullptr;
    if (!ids || !ids->is_array() || ids->get_array().size() != 1) return unsupported;
    EMP_ASSIGN_OR_RETURN(*out, TokenId(ids->get_array()[0], "post_processor special token"));
    return Status::Ok();
  };
  EMP_RETURN_IF_ERROR(special(parts[0], cls));
  return special(parts[2], sep);
}

bool BoolOr(const boost::json::object& o, std::string_view key, bool fallback) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

}  // namespace

Result<WordPieceTokenizer> WordPieceTokenizer::FromJson(std::string_view text) {
  EMP_ASSIGN_OR_RETURN(boost::json::value doc, json::Parse(text));
  if (!doc.is_object()) return InvalidArgument("tokenizer.json: not a JSON object");
  const auto& root = doc.get_object();
  WordPieceTokenizer t;

  const auto* model = root.if_contains("model");
  if (!model || !model->is_object()) return InvalidArgument("tokenizer.json: no model");
  const auto& m = model->get_object();
  const auto* type = m.if_contains("type");
  if (!type || !type->is_string() || type->get_string() != "WordPiece") {
    return FailedPrecondition("tokenizer.json: the model is not WordPiece");
  }
  const auto* vocab = m.if_contains("vocab");
  if (!vocab || !vocab->is_object() || vocab->get_object().empty()) {
    return InvalidArgument("tokenizer.json: model.vocab must be a non-empty object");
  }
  for (const auto& [piece, id] : vocab->get_object()) {
    EMP_ASSIGN_OR_RETURN(int32_t i, TokenId(id, "a vocabulary entry"));
    t.vocab_.emplace(std::string(piece), i);
    t.vocab_size_ = std::max(t.vocab_size_, static_cast<size_t>(i) + 1);
    t.longest_piece_ = std::max(t.longest_piece_, piece.size());
  }
  // Ids index the embedding matrix: they must be dense, and a stray huge id must not size memory.
  if (t.vocab_size_ > t.vocab_.size())
    return InvalidArgument("tokenizer.json: vocabulary ids are not 0..n-1");
  t.pieces_.resize(t.vocab_size_);
  for (const auto& [piece, id] : t.vocab_) t.pieces_[static_cast<size_t>(id)] = piece;
  if (const auto* p = m.if_contains("continuing_subword_prefix"); p && p->is_string()) {
    t.continuation_ = std::string(p->get_string());
  }
  if (const auto* w = m.if_contains("max_input_chars_per_word"); w && w->is_int64() && w->get_int64() > 0) {
    t.max_word_chars_ = static_cast<size_t>(w->get_int64());
  }
  const auto* unk = m.if_contains("unk_token");
  if (!unk || !unk->is_string()) return InvalidArgument("tokenizer.json: model.unk_token must be a string");
  auto unk_it = t.vocab_.find(std::string_view(unk->get_string()));
  if (unk_it == t.vocab_.end()) return InvalidArgument("tokenizer.json: unk_token is not in the vocabulary");
  t.unk_id_ = unk_it->second;

  const auto* norm = root.if_contains("normalizer");
  const auto* norm_type = norm && norm->is_object() ? norm->get_object().if_contains("type") : nullptr;
  if (!norm_type || !norm_type->is_string() || norm_type->get_string() != "BertNormalizer") {
    return FailedPrecondition("tokenizer.json: the normalizer is not BertNormalizer");
  }
  const auto& n = norm->get_object();
  t.clean_text_ = BoolOr(n, "clean_text", true);
  t.chinese_chars_ = BoolOr(n, "handle_chinese_chars", true);
  t.lowercase_ = BoolOr(n, "lowercase", true);
  t.strip_accents_ = BoolOr(n, "strip_accents", t.lowercase_);  // null: follows lowercase

  const auto* pre = root.if_contains("pre_tokenizer");
  const auto* pre_type = pre && pre->is_object() ? pre->get_object().if_contains("type") : nullptr;
  if (!pre_type || !pre_type->is_string() || pre_type->get_string() != "BertPreTokenizer") {
    return FailedPrecondition("tokenizer.json: the pre_tokenizer is not BertPreTokenizer");
  }
  const auto* post = root.if_contains("post_processor");
  if (!post) return FailedPrecondition("tokenizer.json: no post_processor");
  EMP_RETURN_IF_ERROR(SpecialIds(*post, &t.cls_id_, &t.sep_id_));
  if (static_cast<size_t>(std::max(t.cls_id_, t.sep_id_)) >= t.vocab_size_) {
    return InvalidArgument("tokenizer.json: [CLS]/[SEP] ids are outside the vocabulary");
  }

  if (const auto* added = root.if_contains("added_tokens"); added && added->is_array()) {
    for (const auto& a : added->get_array()) {
      const auto* o = a.if_object();
      const auto* content = o ? o->if_contains("content") : nullptr;
      const auto* id = o ? o->if_contains("id") : nullptr;
      if (!content || !content->is_string() || content->get_string().empty() || !id) {
        return InvalidArgument("tokenizer.json: added_tokens entries need content and id");
      }
      if (BoolOr(*o, "normalized", false) || BoolOr(*o, "lstrip", false) || BoolOr(*o, "rstrip", false) ||
          BoolOr(*o, "single_word", false)) {
        return FailedPrecondition("tokenizer.json: added token '" + std::string(content->get_string()) +
                                  "' needs matching rules this tokenizer does not implement");
      }
      EMP_ASSIGN_OR_RETURN(int32_t i, TokenId(*id, "added_tokens id"));
      if (static_cast<size_t>(i) >= t.vocab_size_) {
        return InvalidArgument("tokenizer.json: added token id outside the vocabulary");
      }
      t.special_.emplace(std::string(content->get_string()), i);
    }
  }
  return t;
}

Result<WordPieceTokenizer> WordPieceTokenizer::Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path.string() + " does not exist");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto t = FromJson(text);
  if (!t.ok()) return Status(t.status().code(), path.string() + ": " + t.status().message());
  return t;
}

std::string WordPieceTokenizer::Normalize(std::string_view text) const {
  std::string out;
  out.reserve(text.size() + 8);
  if (IsAscii(text)) {
    // The common case, without ICU: no CJK, no accents, ASCII controls and case only.
    for (char ch : text) {
      if (clean_text_ && (ch == '\t' || ch == '\n' || ch == '\r')) ch = ' ';
      if (clean_text_ && (ch == '\0' || (ch > 0 && ch < 32) || ch == 127)) continue;
      out.push_back(lowercase_ && ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
    }
    return out;
  }
  std::vector<UChar32> cps = Decode(text);
  icu::UnicodeString s;
  for (UChar32 c : cps) {
    if (clean_text_) {
      if (c == 0 || c == kReplacement || IsControl(c)) continue;
      if (IsWhitespace(c)) c = ' ';
    }
    if (chinese_chars_ && IsCjk(c)) {
      s.append(UChar32{' '}).append(c).append(UChar32{' '});
    } else {
      s.append(c);
    }
  }
  if (strip_accents_) {
    UErrorCode err = U_ZERO_ERROR;
    const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(err);
    if (U_SUCCESS(err)) s = nfd->normalize(s, err);
  }
  for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) {
    UChar32 c = s.char32At(i);
    if (strip_accents_ && u_charType(c) == U_NON_SPACING_MARK) continue;
    if (lowercase_) {
      // Full lower-casing, as the reference does per character; U+0130 is the one code point whose
      // full mapping is longer than its simple one.
      if (c == 0x130) {
        out += "i\xCC\x87";
        continue;
      }
      c = u_tolower(c);
    }
    AppendUtf8(c, &out);
  }
  return out;
}

bool WordPieceTokenizer::AppendWord(std::string_view word, size_t limit, std::vector<int32_t>* ids) const {
  if (ids->size() >= limit) return false;
  size_t chars = 0;
  for (char c : word) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  const size_t first = ids->size();
  auto unknown = [&] {
    ids->resize(first);
    ids->push_back(unk_id_);
    return true;
  };
  if (chars > max_word_chars_) return unknown();
  std::string candidate;
  for (size_t start = 0; start < word.size();) {
    const std::string_view prefix = start ? std::string_view(continuation_) : std::string_view();
    // Nothing longer than the longest piece can match: start the search there.
    size_t end =
        std::min(word.size(), start + (longest_piece_ > prefix.size() ? longest_piece_ - prefix.size() : 0));
    int32_t found = -1;
    for (; end > start; --end) {
      if (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) continue;
      candidate.assign(prefix);
      candidate.append(word.substr(start, end - start));
      if (auto it = vocab_.find(candidate); it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) return unknown();
    ids->push_back(found);
    start = end;
  }
  // A word that ran past the limit is cut inside it, as the reference truncates ids, not words.
  if (ids->size() > limit) {
    ids->resize(limit);
    return false;
  }
  return true;
}

bool WordPieceTokenizer::AppendPieces(std::string_view text, size_t limit, std::vector<int32_t>* ids) const {
  const std::string norm = Normalize(text);
  const auto* p = reinterpret_cast<const uint8_t*>(norm.data());
  const int32_t n = static_cast<int32_t>(norm.size());
  int32_t word_start = 0;
  for (int32_t i = 0; i < n;) {
    const int32_t at = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    const bool space = IsWhitespace(c);
    if (!space && !IsPunctuation(c)) continue;
    if (at > word_start &&
        !AppendWord(std::string_view(norm).substr(word_start, at - word_start), limit, ids)) {
      return false;
    }
    if (!space && !AppendWord(std::string_view(norm).substr(at, i - at), limit, ids)) return false;
    word_start = i;
  }
  if (n > word_start) return AppendWord(std::string_view(norm).substr(word_start), limit, ids);
  return true;
}

std::vector<int32_t> WordPieceTokenizer::Encode(std::string_view text, size_t max_tokens) const {
  max_tokens = std::max<size_t>(max_tokens, 2);
  std::vector<int32_t> ids;
  ids.reserve(std::min(max_tokens, text.size() / 3 + 8));
  ids.push_back(cls_id_);
  const size_t limit = max_tokens - 1;
  // Literal special tokens split the text first; the longest one matching at a position wins.
  size_t segment = 0;
  bool room = true;
  for (size_t i = 0; i < text.size() && room && !special_.empty();) {
    size_t best_len = 0;
    int32_t best_id = 0;
    for (const auto& [content, id] : special_) {
      if (content.size() > best_len && text.substr(i).starts_with(content)) {
        best_len = content.size();
        best_id = id;
      }
    }
    if (best_len == 0) {
      ++i;
      continue;
    }
    room = AppendPieces(text.substr(segment, i - segment), limit, &ids);
    if (room && ids.size() < limit) ids.push_back(best_id);
    room = room && ids.size() < limit;
    i += best_len;
    segment = i;
  }
  if (room) AppendPieces(text.substr(segment), limit, &ids);
  ids.push_back(sep_id_);
  return ids;
}

std::vector<std::string> WordPieceTokenizer::Tokenize(std::string_view text) const {
  std::vector<int32_t> ids = Encode(text, SIZE_MAX);
  std::vector<std::string> out;
  for (size_t i = 1; i + 1 < ids.size(); ++i) out.push_back(pieces_[static_cast<size_t>(ids[i])]);
  return out;
}

}  // namespace emporium::ml
