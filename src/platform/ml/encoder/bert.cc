#include "platform/ml/encoder/bert.h"

#include <cblas.h>

#include <Eigen/Core>
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>

#include "platform/core/json.h"
#include "platform/ml/encoder/small_gemm.h"

namespace emporium::ml {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstVectorMap = Eigen::Map<const Eigen::RowVectorXf>;

// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C: a dense layer with PyTorch's [out, in] weights,
// straight to OpenBLAS (the GEMMs are where the time goes).
void GemmNT(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float beta,
            float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// out = x · Wᵀ + bias + residual (residual may be null).
void Linear(const float* x, int tokens, int in, const std::vector<float>& w, const std::vector<float>& bias,
            const float* residual, float* out) {
  const int n = static_cast<int>(bias.size());
  MatrixMap y(out, tokens, n);
  const ConstVectorMap b(bias.data(), n);
  if (residual) {
    y = Eigen::Map<const RowMatrix>(residual, tokens, n);
    y.rowwise() += b;
  } else {
    y.rowwise() = b;
  }
  if (tokens <= kSmallGemmRows && SmallGemmNT(tokens, n, in, x, w.data(), out, n)) return;
  GemmNT(tokens, n, in, 1.0f, x, in, w.data(), in, 1.0f, out, n);
}

void LayerNorm(float* data, int tokens, int hidden, const std::vector<float>& gamma,
               const std::vector<float>& beta, float eps) {
  const auto g = ConstVectorMap(gamma.data(), hidden).array();
  const auto b = ConstVectorMap(beta.data(), hidden).array();
  MatrixMap x(data, tokens, hidden);
  for (int r = 0; r < tokens; ++r) {
    auto row = x.row(r).array();
    row -= row.mean();
    const float inv = 1.0f / std::sqrt(row.square().mean() + eps);
    row = row * inv * g + b;
  }
}

// BERT's "gelu" is the exact one, x·Φ(x), not the tanh approximation.
void Gelu(float* data, size_t n) {
  auto x = Eigen::Map<Eigen::ArrayXf>(data, static_cast<Eigen::Index>(n));
  x = 0.5f * x * (1.0f + (x * static_cast<float>(M_SQRT1_2)).erf());
}

Result<int> PositiveInt(const boost::json::object& o, std::string_view key, int fallback, int max) {
  const auto* v = o.if_contains(key);
  if (!v) {
    if (fallback > 0) return fallback;
    return InvalidArgument("config.json: " + std::string(key) + " is missing");
  }
  if (!v->is_int64() || v->get_int64() <= 0 || v->get_int64() > max) {
    return InvalidArgument("config.json: " + std::string(key) + " must be an integer in 1.." +
                           std::to_string(max));
  }
  return static_cast<int>(v->get_int64());
}

}  // namespace

Result<BertConfig> ParseBertConfig(std::string_view text) {
  EMP_ASSIGN_OR_RETURN(boost::json::value doc, json::Parse(text));
  if (!doc.is_object()) return InvalidArgument("config.json: not a JSON object");
  const auto& o = doc.get_object();
  auto string_is = [&](std::string_view key, std::string_view want, bool required) {
    const auto* v = o.if_contains(key);
    if (!v) return !required;
    return v->is_string() && v->get_string() == want;
  };
  if (!string_is("model_type", "bert", false))
    return FailedPrecondition("config.json: model_type is not bert");
  if (!string_is("hidden_act", "gelu", true))
    return FailedPrecondition("config.json: hidden_act is not gelu");
  if (!string_is("position_embedding_type", "absolute", false)) {
    return FailedPrecondition("config.json: position_embedding_type is not absolute");
  }
  BertConfig c;
  EMP_ASSIGN_OR_RETURN(c.layers, PositiveInt(o, "num_hidden_layers", 0, 256));
  EMP_ASSIGN_OR_RETURN(c.hidden, PositiveInt(o, "hidden_size", 0, 16384));
  EMP_ASSIGN_OR_RETURN(c.heads, PositiveInt(o, "num_attention_heads", 0, 1024));
  EMP_ASSIGN_OR_RETURN(c.intermediate, PositiveInt(o, "intermediate_size", 0, 65536));
  EMP_ASSIGN_OR_RETURN(c.vocab, PositiveInt(o, "vocab_size", 0, 1 << 22));
  EMP_ASSIGN_OR_RETURN(c.max_positions, PositiveInt(o, "max_position_embeddings", 0, 1 << 16));
  EMP_ASSIGN_OR_RETURN(c.type_vocab, PositiveInt(o, "type_vocab_size", 2, 1024));
  if (c.hidden % c.heads != 0)
    return InvalidArgument("config.json: hidden_size is not a multiple of the heads");
  if (const auto* eps = o.if_contains("layer_norm_eps")) {
    if (!eps->is_number()) return InvalidArgument("config.json: layer_norm_eps must be a number");
    c.layer_norm_eps = static_cast<float>(eps->to_number<double>());
    if (!(c.layer_norm_eps > 0)) return InvalidArgument("config.json: layer_norm_eps must be > 0");
  }
  return c;
}

Result<BertModel> BertModel::FromSafeTensors(const SafeTensors& st, const BertConfig& c) {
  const std::string p = st.Find("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  const int64_t h = c.hidden;
  const int64_t i = c.intermediate;
  BertModel m;
  m.config_ = c;
  EMP_ASSIGN_OR_RETURN(m.word_, st.F32(p + "embeddings.word_embeddings.weight", {c.vocab, h}));
  EMP_ASSIGN_OR_RETURN(m.position_,
                       st.F32(p + "embeddings.position_embeddings.weight", {c.max_positions, h}));
  EMP_ASSIGN_OR_RETURN(m.type_, st.F32(p + "embeddings.token_type_embeddings.weight", {c.type_vocab, h}));
  EMP_ASSIGN_OR_RETURN(m.emb_ln_g_, st.F32(p + "embeddings.LayerNorm.weight", {h}));
  EMP_ASSIGN_OR_RETURN(m.emb_ln_b_, st.F32(p + "embeddings.LayerNorm.bias", {h}));
  for (int l = 0; l < c.layers; ++l) {
    const std::string n = p + "encoder.layer." + std::to_string(l) + ".";
    Layer layer;
    for (const char* part : {"query", "key", "value"}) {
      EMP_ASSIGN_OR_RETURN(auto w, st.F32(n + "attention.self." + part + ".weight", {h, h}));
      EMP_ASSIGN_OR_RETURN(auto b, st.F32(n + "attention.self." + part + ".bias", {h}));
      layer.qkv_w.insert(layer.qkv_w.end(), w.begin(), w.end());
      layer.qkv_b.insert(layer.qkv_b.end(), b.begin(), b.end());
    }
    EMP_ASSIGN_OR_RETURN(layer.out_w, st.F32(n + "attention.output.dense.weight", {h, h}));
    EMP_ASSIGN_OR_RETURN(layer.out_b, st.F32(n + "attention.output.dense.bias", {h}));
    EMP_ASSIGN_OR_RETURN(layer.ln1_g, st.F32(n + "attention.output.LayerNorm.weight", {h}));
    EMP_ASSIGN_OR_RETURN(layer.ln1_b, st.F32(n + "attention.output.LayerNorm.bias", {h}));
    EMP_ASSIGN_OR_RETURN(layer.inter_w, st.F32(n + "intermediate.dense.weight", {i, h}));
    EMP_ASSIGN_OR_RETURN(layer.inter_b, st.F32(n + "intermediate.dense.bias", {i}));
    EMP_ASSIGN_OR_RETURN(layer.down_w, st.F32(n + "output.dense.weight", {h, i}));
    EMP_ASSIGN_OR_RETURN(layer.down_b, st.F32(n + "output.dense.bias", {h}));
    EMP_ASSIGN_OR_RETURN(layer.ln2_g, st.F32(n + "output.LayerNorm.weight", {h}));
    EMP_ASSIGN_OR_RETURN(layer.ln2_b, st.F32(n + "output.LayerNorm.bias", {h}));
    m.layers_.push_back(std::move(layer));
  }
  return m;
}

void BertModel::Attention(const Layer& layer, std::span<const int32_t> lengths, size_t tokens,
                          BertWorkspace* ws) const {
  const int h = config_.hidden;
  const int d = h / config_.heads;
  const int ld = 3 * h;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  Linear(ws->x.data(), static_cast<int>(tokens), h, layer.qkv_w, layer.qkv_b, nullptr, ws->qkv.data());
  size_t row = 0;
  for (int32_t len : lengths) {
    const float* base = ws->qkv.data() + row * ld;
    MatrixMap s(ws->scores.data(), len, len);
    for (int head = 0; head < config_.heads; ++head) {
      const float* q = base + head * d;
      const float* k = base + h + head * d;
      const float* v = base + 2 * h + head * d;
      GemmNT(len, len, d, scale, q, ld, k, ld, 0.0f, s.data(), len);
      for (int r = 0; r < len; ++r) {
        auto e = s.row(r).array();
        e = (e - e.maxCoeff()).exp();
        e /= e.sum();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, len, d, len, 1.0f, s.data(), len, v, ld, 0.0f,
                  ws->ctx.data() + row * h + head * d, h);
    }
    row += static_cast<size_t>(len);
  }
}

bool BertModel::Encode(std::span<const int32_t> ids, std::span<const int32_t> lengths, float* out,
                       BertWorkspace* ws, std::stop_token stop) const {
  const int h = config_.hidden;
  const int inter = config_.intermediate;
  const size_t t = ids.size();
  const int tokens = static_cast<int>(t);
  const int32_t longest = lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
  ws->x.resize(t * h);
  ws->qkv.resize(t * 3 * h);
  ws->ctx.resize(t * h);
  ws->tmp.resize(t * h);
  ws->inter.resize(t * inter);
  ws->scores.resize(static_cast<size_t>(longest) * longest);

  // Embeddings: word + position + token type 0 (single sentences), then LayerNorm.
  MatrixMap x(ws->x.data(), tokens, h);
  const ConstVectorMap type0(type_.data(), h);
  size_t row = 0;
  for (int32_t len : lengths) {
    for (int32_t pos = 0; pos < len; ++pos, ++row) {
      x.row(static_cast<Eigen::Index>(row)) =
          ConstVectorMap(word_.data() + static_cast<size_t>(ids[row]) * h, h) +
          ConstVectorMap(position_.data() + static_cast<size_t>(pos) * h, h) + type0;
    }
  }
  LayerNorm(ws->x.data(), tokens, h, emb_ln_g_, emb_ln_b_, config_.layer_norm_eps);

  for (const Layer& layer : layers_) {
    if (stop.stop_requested()) return false;
    Attention(layer, lengths, t, ws);
    Linear(ws->ctx.data(), tokens, h, layer.out_w, layer.out_b, ws->x.data(), ws->tmp.data());
    LayerNorm(ws->tmp.data(), tokens, h, layer.ln1_g, layer.ln1_b, config_.layer_norm_eps);
    Linear(ws->tmp.data(), tokens, h, layer.inter_w, layer.inter_b, nullptr, ws->inter.data());
    Gelu(ws->inter.data(), ws->inter.size());
    Linear(ws->inter.data(), tokens, inter, layer.down_w, layer.down_b, ws->tmp.data(), ws->x.data());
    LayerNorm(ws->x.data(), tokens, h, layer.ln2_g, layer.ln2_b, config_.layer_norm_eps);
  }

  // Mean over each sentence's tokens (all of them count: there is no padding), then unit length.
  row = 0;
  for (size_t s = 0; s < lengths.size(); ++s) {
    const int32_t len = lengths[s];
    Eigen::Map<Eigen::RowVectorXf> o(out + s * h, h);
    o = x.middleRows(static_cast<Eigen::Index>(row), len).colwise().mean();
    o /= std::max(o.norm(), 1e-12f);
    row += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace emporium::ml
