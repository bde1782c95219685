// The payment provider simulators as modules: paysim-intents, paysim-acquirer and paysim-wallet.
// Each runs its own HTTP server on its own port (--paysim-<name>-port, 8091..8093; 0 = any free
// port) with its own ledger database, and sends its webhooks to
// --paysim-<name>-webhook-url (default <public-url>/v1/webhooks/payments/<name>).
// They are test/demo infrastructure shipped in the binary; see docs/payment.md.
#pragma once

#include <string>
#include <vector>

#include "platform/module/module.h"

namespace emporium::paysim {

ModuleDef IntentsModule();
ModuleDef AcquirerModule();
ModuleDef WalletModule();

// Sandbox-only credentials: the defaults both sides use in test mode (a real provider's key and
// webhook secret are configured, never defaulted).
std::string DefaultApiKey(std::string_view provider);
std::string DefaultWebhookSecret(std::string_view provider);
uint16_t DefaultPort(std::string_view provider);

}  // namespace emporium::paysim
