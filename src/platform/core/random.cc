#include "platform/core/random.h"

#include "platform/core/xoshiro.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace emporium {
namespace {

void Fill(unsigned char* buf, size_t n) {
  if (RAND_bytes(buf, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

std::string Hex(const unsigned char* buf, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[buf[i] >> 4];
    out[2 * i + 1] = kDigits[buf[i] & 15];
  }
  return out;
}

std::string FormatUuid(const unsigned char* b) {
  std::string h = Hex(b, 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20);
}

}  // namespace

std::string RandomHex(size_t n_bytes) {
  std::string raw(n_bytes, '\0');
  Fill(reinterpret_cast<unsigned char*>(raw.data()), n_bytes);
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), n_bytes);
}

std::string NewUuid() {
  unsigned char b[16];
  Fill(b, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return FormatUuid(b);
}

std::string NewUuidV7() {
  unsigned char b[16];
  Fill(b, 16);
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  return FormatUuid(b);
}

namespace {

Xoshiro256 SeededFromOs() {
  uint64_t state[4];
  Fill(reinterpret_cast<unsigned char*>(state), sizeof state);
  return Xoshiro256(state);
}

Xoshiro256& ThreadGenerator() {
  thread_local Xoshiro256 gen = SeededFromOs();
  return gen;
}

}  // namespace

std::string FastRandomHex(size_t n_bytes) {
  Xoshiro256& gen = ThreadGenerator();
  unsigned char buf[64];
  std::string out;
  while (n_bytes > 0) {
    size_t chunk = std::min<size_t>(n_bytes, sizeof buf);
    for (size_t i = 0; i < chunk; i += 8) {
      uint64_t v = gen.Next();
      std::memcpy(buf + i, &v, std::min<size_t>(8, chunk - i));
    }
    out += Hex(buf, chunk);
    n_bytes -= chunk;
  }
  return out;
}

double RandomUnit() {
  return static_cast<double>(ThreadGenerator().Next() >> 11) * 0x1.0p-53;
}

}  // namespace emporium
