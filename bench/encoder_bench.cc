// Sentence-encoder benchmark (bench/encoder.sh): encodes every line of --in in one Encode call,
// writes the vectors to --out as float32 .npy (N × dim, for the comparison with
// sentence-transformers), then times single-query encodes of the lines of --queries one at a time
// (what search does per request). One JSON line on stdout:
//   {"bench":"encoder","sentences":N,"tokens":T,"encode_s":..,"sentences_per_s":..,"tokens_per_s":..,
//    "query_tokens_mean":..,"query_p50_ms":..,"query_p99_ms":..,...}
// --ids-out=FILE writes each line's token ids (space-separated) to check the tokenizer too.
// Usage: encoder_bench --in=FILE --out=FILE.npy [--ids-out=FILE] [--queries=FILE] [--model-dir=DIR]
// [--threads=0]
//        [--batch-tokens=2048] [--max-tokens=256] [--query-rounds=1000]
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common.h"
#include "platform/ml/encoder/encoder.h"

namespace emporium::ml {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
  }
  return fallback;
}

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool WriteNpy(const std::string& path, const Embeddings& e) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(e.rows) + ", " +
                       std::to_string(e.dim) + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to 64 bytes, ending in \n.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  out.write(reinterpret_cast<const char*>(e.data.data()), static_cast<std::streamsize>(e.data.size() * 4));
  return static_cast<bool>(out);
}

double Seconds(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

int Main(int argc, char** argv) {
  const std::string in = Flag(argc, argv, "in", "");
  const std::string out = Flag(argc, argv, "out", "");
  if (in.empty() || out.empty()) {
    std::fprintf(stderr,
                 "usage: encoder_bench --in=FILE --out=FILE.npy [--queries=FILE] [--model-dir=DIR] ...\n");
    return 2;
  }
  const std::string dir = Flag(argc, argv, "model-dir", (DefaultModelRoot() / kMiniLmDirName).string());
  EncoderOptions options;
  options.threads = std::stoi(Flag(argc, argv, "threads", "0"));
  options.batch_tokens = std::stoi(Flag(argc, argv, "batch-tokens", "2048"));
  options.max_tokens = std::stoi(Flag(argc, argv, "max-tokens", "256"));
  const int rounds = std::stoi(Flag(argc, argv, "query-rounds", "1000"));

  auto started = SteadyClock::now();
  auto loaded = SentenceEncoder::Load(dir, options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "encoder_bench: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  const SentenceEncoder& enc = **loaded;
  const double load_s = Seconds(SteadyClock::now() - started);

  const std::vector<std::string> texts = Lines(in);
  size_t tokens = 0;
  std::ofstream ids_out;
  if (const std::string f = Flag(argc, argv, "ids-out", ""); !f.empty()) ids_out.open(f, std::ios::trunc);
  for (const auto& t : texts) {
    const std::vector<int32_t> ids = enc.Tokenize(t);
    tokens += ids.size();
    for (size_t i = 0; ids_out.is_open() && i < ids.size(); ++i) ids_out << (i ? " " : "") << ids[i];
    if (ids_out.is_open()) ids_out << "\n";
  }
  enc.Encode(std::span(texts).first(std::min<size_t>(texts.size(), 64)));  // warm caches and BLAS threads
  started = SteadyClock::now();
  const Embeddings e = enc.Encode(texts);
  const double encode_s = Seconds(SteadyClock::now() - started);
  if (!WriteNpy(out, e)) {
    std::fprintf(stderr, "encoder_bench: cannot write %s\n", out.c_str());
    return 1;
  }

  std::vector<double> ms;
  double query_tokens = 0;
  if (const std::string qfile = Flag(argc, argv, "queries", ""); !qfile.empty()) {
    const std::vector<std::string> queries = Lines(qfile);
    for (size_t i = 0; i < queries.size() && i < 50; ++i) enc.Encode(std::string_view(queries[i]));
    for (int r = 0; r < rounds && !queries.empty(); ++r) {
      const std::string& q = queries[static_cast<size_t>(r) % queries.size()];
      query_tokens += static_cast<double>(enc.Tokenize(q).size());
      auto t0 = SteadyClock::now();
      std::vector<float> v = enc.Encode(std::string_view(q));
      ms.push_back(Seconds(SteadyClock::now() - t0) * 1e3);
      if (v.size() != enc.dim()) return 1;
    }
    std::sort(ms.begin(), ms.end());
  }
  auto pct = [&](double p) { return bench::Percentile(ms, p); };
  std::printf(
      "{\"bench\":\"encoder\",\"impl\":\"emporium\",\"version\":\"%s\",\"blas_core\":\"%s\",\"blas_threads\":"
      "%d,"
      "\"threads\":%d,\"batch_tokens\":%d,\"sentences\":%zu,\"tokens\":%zu,\"load_s\":%.3f,\"encode_s\":%.3f,"
      "\"sentences_per_s\":%.1f,\"tokens_per_s\":%.0f,\"queries\":%zu,\"query_tokens_mean\":%.1f,"
      "\"query_p50_ms\":%.3f,\"query_p99_ms\":%.3f}\n",
      enc.version().c_str(), openblas_get_corename(), openblas_get_num_threads(), options.threads,
      options.batch_tokens, texts.size(), tokens, load_s, encode_s, double(texts.size()) / encode_s,
      double(tokens) / encode_s, ms.size(), ms.empty() ? 0.0 : query_tokens / double(ms.size()), pct(0.5),
      pct(0.99));
  return 0;
}

}  // namespace
}  // namespace emporium::ml

int main(int argc, char** argv) {
  return emporium::ml::Main(argc, argv);
}
