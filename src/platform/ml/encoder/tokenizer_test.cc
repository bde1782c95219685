#include "platform/ml/encoder/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "platform/ml/encoder/test_model.h"

namespace emporium::ml {
namespace {

using ::testing::ElementsAre;

const std::vector<std::string> kPieces = {
    "hello", "world",    ",",    "!",  "?",     "'",      "don", "t",  "cafe",    "naive",
    "ecole", "istanbul", "οδοσ", "un", "##aff", "##able", "中",  "国", "a",       "##a",
    "##b",   "##c",      "$",    "5",  "€",     "##5",    "[",   "]",  "unicode", "text"};

int32_t Id(std::string_view piece) {
  for (size_t i = 0; i < kPieces.size(); ++i) {
    if (kPieces[i] == piece) return static_cast<int32_t>(5 + i);
  }
  ADD_FAILURE() << "no piece " << piece;
  return -1;
}

class TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = WordPieceTokenizer::FromJson(testing::TinyTokenizerJson(kPieces));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tok_ = std::make_unique<WordPieceTokenizer>(std::move(*t));
  }
  std::vector<std::string> Pieces(std::string_view text) const { return tok_->Tokenize(text); }
  std::unique_ptr<WordPieceTokenizer> tok_;
};

TEST_F(TokenizerTest, ReadsSpecialIdsAndVocabulary) {
  EXPECT_EQ(tok_->cls_id(), 2);
  EXPECT_EQ(tok_->sep_id(), 3);
  EXPECT_EQ(tok_->unk_id(), 1);
  EXPECT_EQ(tok_->vocab_size(), 5 + kPieces.size());
}

TEST_F(TokenizerTest, LowerCasesAndSplitsPunctuation) {
  EXPECT_THAT(Pieces("Hello, World!"), ElementsAre("hello", ",", "world", "!"));
  EXPECT_THAT(Pieces("don't"), ElementsAre("don", "'", "t"));
  EXPECT_THAT(Pieces("hello?!"), ElementsAre("hello", "?", "!"));
  // ASCII symbols count as punctuation; a Unicode currency sign does not, so "€5" is one word.
  EXPECT_THAT(Pieces("$5"), ElementsAre("$", "5"));
  EXPECT_THAT(Pieces("€5"), ElementsAre("€", "##5"));
}

TEST_F(TokenizerTest, StripsAccentsAndFoldsCase) {
  EXPECT_THAT(Pieces("Café NAÏVE"), ElementsAre("cafe", "naive"));
  EXPECT_THAT(Pieces("ÉCOLE"), ElementsAre("ecole"));
  // İ decomposes to I + a combining dot, which goes with the accents.
  EXPECT_THAT(Pieces("İstanbul"), ElementsAre("istanbul"));
  // Lower-casing is per character: a final capital sigma becomes σ, not ς.
  EXPECT_THAT(Pieces("ΟΔΟΣ"), ElementsAre("οδοσ"));
  EXPECT_EQ(tok_->Normalize("Ünïcödé\u00A0TEXT"), "unicode text");
}

TEST_F(TokenizerTest, SpacesCjkIdeographsOnly) {
  EXPECT_EQ(tok_->Normalize("日本"), " 日  本 ");
  // Kana are not spaced; their voicing marks are non-spacing marks, stripped like accents.
  EXPECT_EQ(tok_->Normalize("ひらがな"), "ひらかな");
  EXPECT_THAT(Pieces("中国abc"), ElementsAre("中", "国", "a", "##b", "##c"));
  EXPECT_THAT(Pieces("a中b"), ElementsAre("a", "中", "[UNK]"));
}

TEST_F(TokenizerTest, CleansControlsAndWhitespace) {
  EXPECT_THAT(Pieces("hello\tworld\n\u00A0!"), ElementsAre("hello", "world", "!"));
  // Format characters (zero-width space) and NUL vanish inside a word; they do not split it.
  EXPECT_THAT(Pieces("hel\u200Blo"), ElementsAre("hello"));
  EXPECT_THAT(Pieces(std::string("hel\0lo", 6)), ElementsAre("hello"));
  // Invalid UTF-8 reads as U+FFFD, which clean_text drops.
  EXPECT_THAT(Pieces("hel\xFFlo"), ElementsAre("hello"));
  EXPECT_TRUE(Pieces(" \t\r\n ").empty());
}

TEST_F(TokenizerTest, WordPiecesAndUnknownWords) {
  EXPECT_THAT(Pieces("unaffable"), ElementsAre("un", "##aff", "##able"));
  // One piece that does not match makes the whole word unknown, not just its tail.
  EXPECT_THAT(Pieces("unaffablex"), ElementsAre("[UNK]"));
  EXPECT_THAT(Pieces("xyz hello"), ElementsAre("[UNK]", "hello"));
  EXPECT_THAT(Pieces("[sep]"), ElementsAre("[", "[UNK]", "]"));
}

TEST_F(TokenizerTest, LongWordsBecomeUnknown) {
  std::vector<std::string> hundred = Pieces(std::string(100, 'a'));
  ASSERT_EQ(hundred.size(), 100u);
  EXPECT_EQ(hundred.front(), "a");
  EXPECT_EQ(hundred.back(), "##a");
  EXPECT_THAT(Pieces(std::string(101, 'a')), ElementsAre("[UNK]"));
  // The limit counts characters, not bytes.
  auto five = WordPieceTokenizer::FromJson(testing::TinyTokenizerJson(kPieces, 5));
  ASSERT_TRUE(five.ok());
  EXPECT_THAT(five->Tokenize("hello"), ElementsAre("hello"));
  EXPECT_THAT(five->Tokenize("aaaaaa"), ElementsAre("[UNK]"));
  EXPECT_THAT(five->Tokenize("€€€€€"), ElementsAre("[UNK]"));   // 5 chars, 15 bytes: tried, no ##€
  EXPECT_THAT(five->Tokenize("€5€5€5"), ElementsAre("[UNK]"));  // 6 chars: over the limit
}

TEST_F(TokenizerTest, AddsSpecialTokensAndTruncates) {
  EXPECT_THAT(tok_->Encode("Hello world", 256), ElementsAre(2, Id("hello"), Id("world"), 3));
  EXPECT_THAT(tok_->Encode("hello world hello world", 4), ElementsAre(2, Id("hello"), Id("world"), 3));
  EXPECT_THAT(tok_->Encode("hello world", 2), ElementsAre(2, 3));
  EXPECT_THAT(tok_->Encode("hello world", 0), ElementsAre(2, 3));
  EXPECT_THAT(tok_->Encode("", 256), ElementsAre(2, 3));
  // Truncation cuts ids, even inside a word.
  EXPECT_THAT(tok_->Encode("unaffable", 3), ElementsAre(2, Id("un"), 3));
  EXPECT_THAT(tok_->Encode("unaffable", 4), ElementsAre(2, Id("un"), Id("##aff"), 3));
}

TEST_F(TokenizerTest, LiteralSpecialTokensAreThoseTokens) {
  EXPECT_THAT(tok_->Encode("hello [SEP] world", 256), ElementsAre(2, Id("hello"), 3, Id("world"), 3));
  EXPECT_THAT(tok_->Encode("[MASK][UNK]", 256), ElementsAre(2, 4, 1, 3));
  EXPECT_THAT(tok_->Encode("hello [SEP] world", 3), ElementsAre(2, Id("hello"), 3));
}

boost::json::value TinyJson() {
  return boost::json::parse(testing::TinyTokenizerJson(kPieces));
}

TEST(TokenizerLoad, RejectsOtherTokenizersAndMalformedFiles) {
  EXPECT_EQ(WordPieceTokenizer::FromJson("not json").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(WordPieceTokenizer::FromJson("[]").status().code(), Code::kInvalidArgument);

  auto bpe = TinyJson();
  bpe.at("model").at("type") = "BPE";
  EXPECT_EQ(WordPieceTokenizer::FromJson(boost::json::serialize(bpe)).status().code(),
            Code::kFailedPrecondition);

  auto norm = TinyJson();
  norm.at("normalizer").at("type") = "NFKC";
  EXPECT_EQ(WordPieceTokenizer::FromJson(boost::json::serialize(norm)).status().code(),
            Code::kFailedPrecondition);

  auto no_unk = TinyJson();
  no_unk.at("model").at("unk_token") = "<unk>";
  EXPECT_EQ(WordPieceTokenizer::FromJson(boost::json::serialize(no_unk)).status().code(),
            Code::kInvalidArgument);

  auto bad_id = TinyJson();
  bad_id.at("model").at("vocab").as_object()["oops"] = -3;
  EXPECT_EQ(WordPieceTokenizer::FromJson(boost::json::serialize(bad_id)).status().code(),
            Code::kInvalidArgument);

  auto pair_only = TinyJson();
  pair_only.at("post_processor").at("single").as_array().pop_back();
  EXPECT_EQ(WordPieceTokenizer::FromJson(boost::json::serialize(pair_only)).status().code(),
            Code::kFailedPrecondition);

  EXPECT_EQ(WordPieceTokenizer::Load("/nonexistent/tokenizer.json").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace emporium::ml
