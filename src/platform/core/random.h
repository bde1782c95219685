// Random identifiers from the OS CSPRNG (OpenSSL RAND_bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace emporium {

// n random bytes as 2n lowercase hex characters.
std::string RandomHex(size_t n_bytes);
// RFC 9562 UUID version 4, e.g. "3f2b...-....-4...-a...-............".
std::string NewUuid();
// UUID version 7 (time-ordered); good as a primary key and event id.
std::string NewUuidV7();
// n random bytes as hex from a fast thread-local generator seeded from the OS CSPRNG. For
// identifiers that must be unique and unpredictable enough for correlation (trace and span ids,
// request ids), never for secrets or tokens.
std::string FastRandomHex(size_t n_bytes);
// Uniform in [0, 1) from a fast thread-local generator (not for secrets: jitter, sampling).
double RandomUnit();

}  // namespace emporium
