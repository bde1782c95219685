// cart: shopping carts and wishlists of users and guests, kept in sync across devices.
//
// Other modules include only this header. Carts are keyed by the caller's principal subject
// ("user:<id>" or "guest:<id>"). Prices and availability come from catalog (rt.Client("catalog"))
// on every read. Events go to topic kCartTopic (CloudEvents, source "/emporium/cart", key = subject):
//   cart.item_added      {"subject","product_id","quantity","change":{...}}
//   cart.item_updated    {"subject","product_id","quantity","change":{...}}
//   cart.item_removed    {"subject","product_id","quantity":0,"change":{...}}
//   wishlist.item_added  {"subject","product_id"}
// `change` is the cart change that SSE clients receive (see docs/cart.md). The module consumes
// identity.guest_merged on topic "identity.user" to merge a guest's cart into the user's cart, and
// order.confirmed on topic "order" to take what the order bought out of the user's cart.
#pragma once

#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/module/module.h"

namespace emporium::cart {

inline constexpr std::string_view kCartTopic = "cart";
inline constexpr std::string_view kEventSource = "/emporium/cart";
inline constexpr int kMaxQuantity = 99;

std::vector<config::Key> ConfigKeys();
ModuleDef Module();

}  // namespace emporium::cart
