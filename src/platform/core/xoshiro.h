// xoshiro256** (Blackman & Vigna): a small, fast, statistically sound 64-bit generator;
// SplitMix64, its recommended seeder; and FNV-1a, to derive seeds and splits from names. Not for
// secrets. A Xoshiro256 is not thread-safe: one per thread or stream.
#pragma once

#include <cstdint>
#include <string_view>

namespace emporium {

inline uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// 64-bit FNV-1a of the bytes, from `basis` (the standard offset basis by default).
inline uint64_t Fnv1a(std::string_view bytes, uint64_t basis = 0xcbf29ce484222325ULL) {
  uint64_t h = basis;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

class Xoshiro256 {
 public:
  // The state from SplitMix64 over seed: the same seed gives the same stream everywhere.
  explicit Xoshiro256(uint64_t seed) {
    for (uint64_t& w : s_) w = SplitMix64(seed);
  }
  // The state as given (from a CSPRNG); an all-zero state is replaced, as it would repeat 0.
  explicit Xoshiro256(const uint64_t (&state)[4]) {
    for (int i = 0; i < 4; ++i) s_[i] = state[i];
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace emporium
