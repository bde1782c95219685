// Internal: lazy libsodium initialisation shared by this component's translation units.
// Thread-safe (sodium_init is itself safe to call repeatedly; std::call_once adds nothing).
#pragma once

namespace emporium::crypto::internal {

// Aborts when libsodium cannot initialise: nothing cryptographic is safe afterwards.
void EnsureSodium();

}  // namespace emporium::crypto::internal
