// Factories of the three provider adapters (one per sandbox protocol; see docs/payment.md).
// The HttpClient is shared and must outlive the adapters.
#pragma once

#include <memory>

#include "services/payment/provider.h"

namespace emporium::http {
class HttpClient;
}

namespace emporium::payment {

std::unique_ptr<Provider> NewIntentsProvider(ProviderConfig config, http::HttpClient& client);
std::unique_ptr<Provider> NewAcquirerProvider(ProviderConfig config, http::HttpClient& client);
std::unique_ptr<Provider> NewWalletProvider(ProviderConfig config, http::HttpClient& client);
// By protocol name: "intents", "acquirer", "wallet"; nullptr for an unknown one.
std::unique_ptr<Provider> NewProvider(ProviderConfig config, http::HttpClient& client);

}  // namespace emporium::payment
