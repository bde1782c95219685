// The sandbox test cards every provider simulator honours (docs/payment.md lists them), and the
// card checks a provider does at tokenization (Luhn, expiry, brand). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace emporium::paysim {

enum class CardBehaviour {
  kApprove = 0,
  kDecline = 1,
  kInsufficientFunds = 2,
  kStepUp = 3,
  kProcessingError = 4,
  kSlow = 5,  // approved after the sandbox's slow-card delay
  kExpiredCard = 6,
  kIncorrectCvc = 7,
  // Approved and captured as usual; the cardholder then disputes it as fraud, the sandbox's
  // dispute delay after the capture (a stolen card that authorizes).
  kFraudDispute = 8,
};

// 4242424242424242 approve, 4000000000000002 decline, 4000000000009995 insufficient funds,
// 4000002500003155 step-up, 4000000000000119 processing error, 4000000000001000 slow,
// 4000000000000069 expired card, 4000000000000127 incorrect CVC, 4000000000000259 disputed as
// fraud after capture. Any other number that passes Luhn is approved.
CardBehaviour BehaviourOf(std::string_view number);
bool LuhnValid(std::string_view number);
// "visa", "mastercard", "amex", "discover" or "unknown".
std::string BrandOf(std::string_view number);
// Not expired at (year, month) = now; months 1..12.
bool ExpiryValid(int64_t exp_month, int64_t exp_year, int now_year, int now_month);

}  // namespace emporium::paysim
