// Test and benchmark support: a stand-in "catalog" module that serves the product JSON contract
// (GET /v1/products/{id}, GET /v1/products?ids=a,b,c) from an in-memory table whose prices and
// availability the test controls. Thread-safe.
#pragma once

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "platform/core/json.h"
#include "platform/http/problem.h"
#include "platform/module/testing.h"

namespace emporium::cart::testing {

class FakeCatalog {
 public:
  void Set(const std::string& id, int64_t price, int64_t available, const std::string& title = "",
           const std::string& currency = "USD") {
    std::lock_guard lock(mu_);
    products_[id] = {title.empty() ? "Product " + id : title, price, available, currency};
  }
  void Remove(const std::string& id) {
    std::lock_guard lock(mu_);
    products_.erase(id);
  }
  int64_t batch_calls() const { return batch_calls_.load(); }
  int64_t single_calls() const { return single_calls_.load(); }

  // The module definition; the FakeCatalog must outlive the runtime that starts it.
  ModuleDef Def() {
    return emporium::testing::FakeModule("catalog", [this](http::Router& r) -> Status {
      EMP_RETURN_IF_ERROR(
          r.Add(http::Method::kGet, "/v1/products/{id}", [this](http::Request& q) { return GetOne(q); }));
      return r.Add(http::Method::kGet, "/v1/products", [this](http::Request& q) { return List(q); });
    });
  }

 private:
  struct Entry {
    std::string title;
    int64_t price;
    int64_t available;
    std::string currency;
  };

  boost::json::object Json(const std::string& id, const Entry& e) const {
    return boost::json::object{
        {"id", id},
        {"sku", "SKU-" + id},
        {"title", e.title},
        {"price", boost::json::object{{"amount", e.price}, {"currency", e.currency}}},
        {"availability", boost::json::object{{"in_stock", e.available > 0}, {"available", e.available}}},
        {"version", 1}};
  }

  http::Response GetOne(http::Request& req) {
    ++single_calls_;
    std::string id(*req.PathParam("id"));
    std::lock_guard lock(mu_);
    auto it = products_.find(id);
    if (it == products_.end()) return http::Problem(404, "no product " + id, req.path);
    return http::Response::Json(200, json::Dump(Json(id, it->second)));
  }

  http::Response List(http::Request& req) {
    ++batch_calls_;
    boost::json::array items;
    std::stringstream ids(req.QueryParam("ids").value_or(""));
    std::lock_guard lock(mu_);
    for (std::string id; std::getline(ids, id, ',');) {
      auto it = products_.find(id);
      if (it != products_.end()) items.push_back(Json(id, it->second));
    }
    return http::Response::Json(
        200, json::Dump(boost::json::object{{"items", items}, {"next_page_token", nullptr}}));
  }

  std::mutex mu_;
  std::map<std::string, Entry> products_;
  std::atomic<int64_t> batch_calls_{0};
  std::atomic<int64_t> single_calls_{0};
};

}  // namespace emporium::cart::testing
