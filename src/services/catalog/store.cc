// Store: categories and products (inventory and reservations are in inventory_store.cc).
#include "services/catalog/store.h"

#include <boost/json/array.hpp>
#include <cmath>
#include <cstdio>

#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/crypto/crypto.h"

namespace emporium::catalog {
namespace {

constexpr const char* kProductColumns =
    "p.num, p.id, p.sku, p.title, p.description, p.brand, p.category_id, p.price_amount, p.currency, "
    "p.attributes, p.rating_centi, p.rating_count, p.available, p.created_at, p.updated_at, p.version, "
    "c.parent_id, c.name, c.path_names, c.path_ids";

std::vector<std::string> SplitIds(const std::string& path_ids) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : path_ids) {
    if (ch == '/') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return out;
}

std::vector<std::string> NamesFromJson(const std::string& text) {
  std::vector<std::string> out;
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_array()) return out;
  for (const auto& e : v->as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

std::string NamesToJson(const std::vector<std::string>& names) {
  boost::json::array a;
  for (const auto& n : names) a.emplace_back(n);
  return json::Dump(a);
}

Category CategoryFrom(const std::string& id, const std::string& parent_id, const std::string& name,
                      const std::string& path_names, const std::string& path_ids) {
  return Category{id, parent_id, name, NamesFromJson(path_names), SplitIds(path_ids)};
}

Product ProductFrom(const sql::Row& r) {
  Product p;
  p.num = r.Int(0);
  p.id = r.Text(1);
  p.sku = r.Text(2);
  p.title = r.Text(3);
  p.description = r.Text(4);
  p.brand = r.Text(5);
  p.price = {r.Int(7), r.Text(8)};
  p.attributes_json = r.Text(9);
  p.rating_average = static_cast<double>(r.Int(10)) / 100.0;
  p.rating_count = r.Int(11);
  p.available = r.Int(12);
  p.created_at = r.Int(13);
  p.updated_at = r.Int(14);
  p.version = r.Int(15);
  p.category = CategoryFrom(r.Text(6), r.Text(16), r.Text(17), r.Text(18), r.Text(19));
  return p;
}

int64_t RatingCenti(double average) {
  return static_cast<int64_t>(std::llround(average * 100.0));
}

// Keyset position: the sort it belongs to, the sort column's value and the row's num.
struct Cursor {
  int sort = 0;
  int64_t key = 0;
  int64_t num = 0;
};

std::string EncodeCursor(const Cursor& c) {
  return crypto::Base64UrlEncode("k1:" + std::to_string(c.sort) + ":" + std::to_string(c.key) + ":" +
                                 std::to_string(c.num));
}

Result<Cursor> DecodeCursor(const std::string& token, int sort) {
  auto raw = crypto::Base64UrlDecode(token);
  Cursor c;
  long long key = 0, num = 0;
  int s = 0;
  if (!raw.ok() || std::sscanf(raw->c_str(), "k1:%d:%lld:%lld", &s, &key, &num) != 3)
    return InvalidArgument("page_token is not valid");
  if (s != sort) return InvalidArgument("page_token belongs to another sort order");
  c.sort = s;
  c.key = key;
  c.num = num;
  return c;
}

}  // namespace

std::string ProductId(int64_t num) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p-%06lld", static_cast<long long>(num));
  return buf;
}

Status Store::Migrate() {
  EMP_RETURN_IF_ERROR(sql::Migrate(db_, "catalog", Migrations()));
  return bus::MigrateOutbox(db_);
}

Result<int64_t> Store::NextNumbers(sql::Tx& tx, const std::string& name, int64_t count) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT next_value FROM sequences WHERE name = $1", {name}));
  if (rs.rows.empty()) return Internal("no sequence " + name);
  int64_t first = rs.rows[0].Int(0);
  EMP_RETURN_IF_ERROR(tx.Exec("UPDATE sequences SET next_value = $1 WHERE name = $2", {first + count, name}));
  return first;
}

Result<std::optional<Category>> Store::CategoryById(sql::Tx& tx, const std::string& id) {
  EMP_ASSIGN_OR_RETURN(
      auto rs,
      tx.Query("SELECT id, parent_id, name, path_names, path_ids FROM categories WHERE id = $1", {id}));
  if (rs.rows.empty()) return std::optional<Category>();
  const auto& r = rs.rows[0];
  return std::optional<Category>(CategoryFrom(r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4)));
}

Result<std::vector<Category>> Store::AllCategories(sql::Tx& tx) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT id, parent_id, name, path_names, path_ids FROM categories "
                                         "ORDER BY name, id"));
  std::vector<Category> out;
  for (const auto& r : rs.rows)
    out.push_back(CategoryFrom(r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4)));
  return out;
}

Result<Category> Store::EnsureCategory(sql::Tx& tx, const std::string& parent_id, const std::string& name,
                                       int64_t now) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT id, parent_id, name, path_names, path_ids FROM categories "
                                         "WHERE parent_id = $1 AND name = $2",
                                         {parent_id, name}));
  if (!rs.rows.empty()) {
    const auto& r = rs.rows[0];
    return CategoryFrom(r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4));
  }
  std::vector<std::string> names;
  std::string path_ids = "/";
  if (!parent_id.empty()) {
    EMP_ASSIGN_OR_RETURN(auto parent, CategoryById(tx, parent_id));
    if (!parent) return NotFound("category " + parent_id + " does not exist");
    names = parent->path;
    for (const auto& id : parent->path_ids) path_ids += id + "/";
  }
  EMP_ASSIGN_OR_RETURN(int64_t n, NextNumbers(tx, "category", 1));
  std::string id = "c-" + std::to_string(n);
  names.push_back(name);
  path_ids += id + "/";
  std::string names_json = NamesToJson(names);
  EMP_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO categories (id, parent_id, name, path_names, path_ids, created_at) "
              "VALUES ($1, $2, $3, $4, $5, $6)",
              {id, parent_id, name, names_json, path_ids, now}));
  return CategoryFrom(id, parent_id, name, names_json, path_ids);
}

Result<std::vector<std::pair<std::string, int64_t>>> Store::CategoryCounts(sql::Tx& tx) {
  EMP_ASSIGN_OR_RETURN(
      auto rs, tx.Query("SELECT category_id, COUNT(*) FROM products WHERE deleted = 0 GROUP BY category_id"));
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& r : rs.rows) out.emplace_back(r.Text(0), r.Int(1));
  return out;
}

Result<Product> Store::InsertProduct(sql::Tx& tx, int64_t num, const NewProduct& in, const Category& category,
                                     int64_t now) {
  Product p;
  p.num = num;
  p.id = ProductId(num);
  p.sku = in.sku.empty() ? "SKU-" + p.id.substr(2) : in.sku;
  p.title = in.title;
  p.description = in.description;
  p.brand = in.brand;
  p.category = category;
  p.price = in.price;
  p.attributes_json = in.attributes_json.empty() ? "{}" : in.attributes_json;
  p.rating_average = static_cast<double>(RatingCenti(in.rating_average)) / 100.0;
  p.rating_count = in.rating_count;
  p.created_at = p.updated_at = in.created_at > 0 ? in.created_at : now;
  p.version = 1;
  for (const auto& [wh, on_hand] : in.stock) p.available += on_hand;
  EMP_RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO products (num, id, sku, title, description, brand, category_id, price_amount, currency, "
      "attributes, rating_centi, rating_count, available, deleted, created_at, updated_at, version) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $14, 1)",
      {p.num, p.id, p.sku, p.title, p.description, p.brand, category.id, p.price.amount, p.price.currency,
       p.attributes_json, RatingCenti(in.rating_average), p.rating_count, p.available, p.created_at}));
  for (const auto& [wh, on_hand] : in.stock) {
    EMP_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved) VALUES ($1, $2, $3, 0)",
                {p.id, wh, on_hand}));
  }
  return p;
}

Result<std::optional<Product>> Store::ProductById(sql::Tx& tx, const std::string& id) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query(std::string("SELECT ") + kProductColumns +
                                             " FROM products p JOIN categories c ON c.id = p.category_id "
                                             "WHERE p.id = $1 AND p.deleted = 0",
                                         {id}));
  if (rs.rows.empty()) return std::optional<Product>();
  return std::optional<Product>(ProductFrom(rs.rows[0]));
}

Result<bool> Store::SkuExists(sql::Tx& tx, const std::string& sku) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT 1 FROM products WHERE sku = $1", {sku}));
  return !rs.rows.empty();
}

Status Store::UpdateProduct(sql::Tx& tx, const Product& p) {
  return tx.Exec(
      "UPDATE products SET sku = $2, title = $3, description = $4, brand = $5, category_id = $6, "
      "price_amount = $7, currency = $8, attributes = $9, updated_at = $10, version = $11 WHERE id = $1",
      {p.id, p.sku, p.title, p.description, p.brand, p.category.id, p.price.amount, p.price.currency,
       p.attributes_json, p.updated_at, p.version});
}

Status Store::MarkDeleted(sql::Tx& tx, const std::string& id, int64_t now) {
  return tx.Exec("UPDATE products SET deleted = 1, updated_at = $2, version = version + 1 WHERE id = $1",
                 {id, now});
}

Result<ProductPage> Store::ListProducts(sql::Tx& tx, const ProductQuery& q) {
  std::vector<sql::Value> params;
  auto param = [&params](sql::Value v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  std::string where = "p.deleted = 0";
  if (!q.category_id.empty()) where += " AND c.path_ids LIKE " + param("%/" + q.category_id + "/%");
  if (!q.brand.empty()) where += " AND p.brand = " + param(q.brand);
  if (q.min_price) where += " AND p.price_amount >= " + param(*q.min_price);
  if (q.max_price) where += " AND p.price_amount <= " + param(*q.max_price);
  if (!q.ids.empty()) {
    where += " AND p.id IN (";
    for (size_t i = 0; i < q.ids.size(); ++i) where += (i ? ", " : "") + param(q.ids[i]);
    where += ")";
  }
  // The sort column and direction; ties are broken by num so the order is total.
  std::string key_col;
  bool desc = false;
  switch (q.sort) {
    case Sort::kId: break;
    case Sort::kPriceAsc: key_col = "p.price_amount"; break;
    case Sort::kPriceDesc: key_col = "p.price_amount", desc = true; break;
    case Sort::kRating: key_col = "p.rating_centi", desc = true; break;
    case Sort::kNewest: key_col = "p.created_at", desc = true; break;
  }
  const int sort = static_cast<int>(q.sort);
  if (!q.page_token.empty()) {
    EMP_ASSIGN_OR_RETURN(Cursor c, DecodeCursor(q.page_token, sort));
    if (key_col.empty()) {
      where += " AND p.num > " + param(c.num);
    } else {
      std::string k = param(c.key);
      where += " AND (" + key_col + (desc ? " < " : " > ") + k + " OR (" + key_col + " = " + k +
               " AND p.num > " + param(c.num) + "))";
    }
  }
  std::string order = key_col.empty() ? "p.num" : key_col + (desc ? " DESC" : "") + ", p.num";
  std::string sql = std::string("SELECT ") + kProductColumns +
                    " FROM products p JOIN categories c ON c.id = p.category_id WHERE " + where +
                    " ORDER BY " + order + " LIMIT " + param(static_cast<int64_t>(q.page_size) + 1);
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query(sql, std::span<const sql::Value>(params)));
  ProductPage page;
  for (const auto& r : rs.rows) page.items.push_back(ProductFrom(r));
  if (page.items.size() > static_cast<size_t>(q.page_size)) {
    page.items.resize(q.page_size);
    const Product& last = page.items.back();
    int64_t key = 0;
    switch (q.sort) {
      case Sort::kId: break;
      case Sort::kPriceAsc:
      case Sort::kPriceDesc: key = last.price.amount; break;
      case Sort::kRating: key = RatingCenti(last.rating_average); break;
      case Sort::kNewest: key = last.created_at; break;
    }
    page.next_page_token = EncodeCursor({sort, key, last.num});
  }
  return page;
}

Result<int64_t> Store::CountProducts(sql::Tx& tx) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT COUNT(*) FROM products"));
  return rs.rows.empty() ? 0 : rs.rows[0].Int(0);
}

}  // namespace emporium::catalog
