// The three provider simulators, each a Sandbox speaking a different protocol:
//   intents  — PaymentIntents-style, form-encoded requests, asynchronous signed webhooks
//              (`Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`);
//   acquirer — synchronous JSON authorise/capture with resultCode Authorised/Refused/Error/
//              RedirectShopper and notification webhooks carrying additionalData.hmacSignature;
//   wallet   — redirect/approval orders (create → approve URL → authorize → capture) with decimal
//              string amounts and PAYPAL-TRANSMISSION-* signed webhooks.
// docs/payment.md has the wire formats. Thread-safety: as Sandbox.
#pragma once

#include <memory>

#include "services/payment/sandbox/sandbox.h"

namespace emporium::paysim {

std::unique_ptr<Sandbox> NewIntentsSandbox(SandboxOptions options, sql::Database& db, Clock& clock);
std::unique_ptr<Sandbox> NewAcquirerSandbox(SandboxOptions options, sql::Database& db, Clock& clock);
std::unique_ptr<Sandbox> NewWalletSandbox(SandboxOptions options, sql::Database& db, Clock& clock);

}  // namespace emporium::paysim
