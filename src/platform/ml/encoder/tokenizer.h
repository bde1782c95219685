// BERT's WordPiece tokenizer, read from a Hugging Face tokenizer.json, giving the same ids as the
// reference (tokenizers' BertNormalizer + BertPreTokenizer + WordPiece + [CLS] … [SEP]):
//   1. special tokens written literally in the text ("[SEP]") are taken as those tokens;
//   2. normalise: drop NUL, U+FFFD and control characters, map whitespace to ' ' (clean_text);
//      put spaces around CJK ideographs; strip accents (NFD, drop non-spacing marks); lower-case;
//   3. split on whitespace, and every punctuation character is a word of its own;
//   4. each word becomes the longest vocabulary pieces from its start ("##" before a piece that
//      continues a word); a word with no such split, or longer than max_input_chars_per_word,
//      becomes [UNK];
//   5. [CLS] pieces [SEP], truncated to a maximum length (the special tokens count).
// Invalid UTF-8 bytes read as U+FFFD (and so vanish). Unicode properties come from ICU.
// A loaded tokenizer is immutable and safe to use from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/core/status.h"

namespace emporium::ml {

class WordPieceTokenizer {
 public:
  // kInvalidArgument when the JSON is malformed; kFailedPrecondition when it describes another
  // kind of tokenizer (not WordPiece with a BertNormalizer and a [CLS] $A [SEP] template).
  static Result<WordPieceTokenizer> FromJson(std::string_view json);
  // kNotFound when the file does not exist, otherwise as FromJson.
  static Result<WordPieceTokenizer> Load(const std::filesystem::path& path);

  // [CLS] pieces [SEP]: at most max_tokens ids in all (max_tokens >= 2).
  std::vector<int32_t> Encode(std::string_view text, size_t max_tokens) const;
  // The pieces of the text as strings, without [CLS]/[SEP] and untruncated (tests, debugging).
  std::vector<std::string> Tokenize(std::string_view text) const;
  // Step 2 alone.
  std::string Normalize(std::string_view text) const;

  size_t vocab_size() const { return vocab_size_; }
  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t unk_id() const { return unk_id_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

  // Appends the ids of the text's pieces until `limit` ids are there; false when cut short.
  bool AppendPieces(std::string_view text, size_t limit, std::vector<int32_t>* ids) const;
  bool AppendWord(std::string_view word, size_t limit, std::vector<int32_t>* ids) const;

  Vocab vocab_;
  std::vector<std::string> pieces_;  // id → piece
  Vocab special_;                    // literal special tokens in the input (step 1)
  size_t vocab_size_ = 0;
  size_t longest_piece_ = 0;  // bytes, "##" included
  std::string continuation_ = "##";
  size_t max_word_chars_ = 100;
  int32_t cls_id_ = 0, sep_id_ = 0, unk_id_ = 0;
  bool clean_text_ = true, chinese_chars_ = true, strip_accents_ = true, lowercase_ = true;
};

}  // namespace emporium::ml
