#include "services/payment/sandbox/cards.h"

namespace emporium::paysim {

CardBehaviour BehaviourOf(std::string_view number) {
  if (number == "4000000000000002") return CardBehaviour::kDecline;
  if (number == "4000000000009995") return CardBehaviour::kInsufficientFunds;
  if (number == "4000002500003155") return CardBehaviour::kStepUp;
  if (number == "4000000000000119") return CardBehaviour::kProcessingError;
  if (number == "4000000000001000") return CardBehaviour::kSlow;
  if (number == "4000000000000069") return CardBehaviour::kExpiredCard;
  if (number == "4000000000000127") return CardBehaviour::kIncorrectCvc;
  if (number == "4000000000000259") return CardBehaviour::kFraudDispute;
  return CardBehaviour::kApprove;
}

bool LuhnValid(std::string_view number) {
  if (number.size() < 12 || number.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = number.rbegin(); it != number.rend(); ++it) {
    if (*it < '0' || *it > '9') return false;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::string BrandOf(std::string_view number) {
  if (number.empty()) return "unknown";
  if (number[0] == '4') return "visa";
  if (number.size() >= 2 && number[0] == '5' && number[1] >= '1' && number[1] <= '5') return "mastercard";
  if (number.size() >= 2 && number[0] == '3' && (number[1] == '4' || number[1] == '7')) return "amex";
  if (number.rfind("6011", 0) == 0 || number.rfind("65", 0) == 0) return "discover";
  return "unknown";
}

bool ExpiryValid(int64_t exp_month, int64_t exp_year, int now_year, int now_month) {
  if (exp_month < 1 || exp_month > 12 || exp_year < 2000 || exp_year > 2100) return false;
  return exp_year > now_year || (exp_year == now_year && exp_month >= now_month);
}

}  // namespace emporium::paysim
