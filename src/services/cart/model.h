// Cart domain types: plain data shared by the store, the service and the HTTP layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace emporium::cart {

struct Line {
  std::string product_id;
  int quantity = 0;
  int64_t added_at = 0;  // Unix ms
};

// A cart as stored (no prices: those come from catalog on every read).
struct CartState {
  std::string id;
  std::string subject;  // "user:<id>" or "guest:<id>"
  int64_t version = 0;  // bumped by every change; also the seq of the change
  int64_t updated_at = 0;
  std::vector<Line> items;
};

// One committed change of a cart, as SSE clients receive it: `json` is the change document
// {"seq","type","product_id","quantity","version","items":[{"product_id","quantity"}],"at"}.
struct Change {
  std::string subject;
  int64_t seq = 0;
  std::string json;
};

struct WishItem {
  std::string product_id;
  int64_t added_at = 0;
};

// What cart needs to know about a product (from catalog's product JSON).
struct Product {
  std::string id;
  std::string title;
  int64_t price = 0;  // minor units
  std::string currency;
  int64_t available = 0;
  bool in_stock = false;
};

}  // namespace emporium::cart
