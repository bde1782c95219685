#include "services/catalog/service.h"

#include <map>

#include "services/catalog/events.h"
#include "services/catalog/text.h"

namespace emporium::catalog {
namespace {

constexpr size_t kMaxTitle = 300;
constexpr size_t kMaxDescription = 20000;
constexpr size_t kMaxBrand = 100;
constexpr size_t kMaxSku = 64;
constexpr int64_t kMaxAmount = 1'000'000'000'000;

void CheckText(const std::string& field, const std::string& v, size_t max, bool required,
               FieldErrors& errors) {
  if (!IsValidUtf8(v)) {
    errors.push_back({field, "must be valid UTF-8"});
  } else if (required && Trim(v).empty()) {
    errors.push_back({field, "is required"});
  } else if (Utf8Length(v) > max) {
    errors.push_back({field, "must be at most " + std::to_string(max) + " characters"});
  }
}

void CheckSku(const std::string& sku, FieldErrors& errors) {
  if (sku.size() > kMaxSku) {
    errors.push_back({"sku", "must be at most 64 characters"});
    return;
  }
  for (char c : sku) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      errors.push_back({"sku", "may contain only letters, digits, '-', '_' and '.'"});
      return;
    }
  }
}

void CheckMoney(const Money& m, FieldErrors& errors) {
  if (m.amount < 0 || m.amount > kMaxAmount)
    errors.push_back({"price.amount", "must be between 0 and 10^12"});
  bool code = m.currency.size() == 3;
  for (char c : m.currency) code = code && c >= 'A' && c <= 'Z';
  if (!code) errors.push_back({"price.currency", "must be an ISO 4217 code such as USD"});
}

}  // namespace

void ValidateNewProduct(const NewProduct& p, FieldErrors& errors) {
  if (!p.sku.empty()) CheckSku(p.sku, errors);
  CheckText("title", p.title, kMaxTitle, true, errors);
  CheckText("description", p.description, kMaxDescription, false, errors);
  CheckText("brand", p.brand, kMaxBrand, false, errors);
  if (p.category_id.empty()) errors.push_back({"category_id", "is required"});
  CheckMoney(p.price, errors);
}

Catalog::Catalog(Store& store, Clock& clock, std::function<void()> notify, ProductCache* cache)
    : store_(store), clock_(clock), notify_(std::move(notify)), cache_(cache) {}

int64_t Catalog::Now() const {
  return UnixMillis(clock_.WallNow());
}

Result<Product> Catalog::Get(const std::string& id) {
  if (cache_) {
    if (auto hit = cache_->Get(id)) return std::move(*hit);
  }
  const uint64_t generation = cache_ ? cache_->generation() : 0;
  std::optional<Product> p;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(p, store_.ProductById(tx, id));
    return Status::Ok();
  }));
  if (!p) return NotFound("product " + id + " does not exist");
  if (cache_) cache_->Put(id, *p, generation);
  return std::move(*p);
}

Result<ProductPage> Catalog::List(const ProductQuery& q) {
  ProductPage page;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    if (!q.category_id.empty()) {
      EMP_ASSIGN_OR_RETURN(auto c, store_.CategoryById(tx, q.category_id));
      if (!c) return InvalidArgument("category " + q.category_id + " does not exist");
    }
    EMP_ASSIGN_OR_RETURN(page, store_.ListProducts(tx, q));
    return Status::Ok();
  }));
  return page;
}

Result<std::vector<CategoryNode>> Catalog::Tree() {
  std::vector<Category> all;
  std::vector<std::pair<std::string, int64_t>> counts;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(all, store_.AllCategories(tx));
    EMP_ASSIGN_OR_RETURN(counts, store_.CategoryCounts(tx));
    return Status::Ok();
  }));
  // Every product counts for its category and all of that category's ancestors.
  std::map<std::string, int64_t> total;
  std::map<std::string, const Category*> by_id;
  for (const auto& c : all) by_id[c.id] = &c;
  for (const auto& [id, n] : counts) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    for (const auto& anc : it->second->path_ids) total[anc] += n;
  }
  std::map<std::string, std::vector<const Category*>> children;
  for (const auto& c : all) children[c.parent_id].push_back(&c);
  std::function<CategoryNode(const Category&)> build = [&](const Category& c) {
    CategoryNode node{c, total[c.id], {}};
    for (const Category* child : children[c.id]) node.children.push_back(build(*child));
    return node;
  };
  std::vector<CategoryNode> roots;
  for (const Category* c : children[""]) roots.push_back(build(*c));
  return roots;
}

Result<Product> Catalog::Create(const NewProduct& in, FieldErrors* errors) {
  ValidateNewProduct(in, *errors);
  if (!errors->empty()) return InvalidArgument("invalid product");
  Product out;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(auto category, store_.CategoryById(tx, in.category_id));
    if (!category) return InvalidArgument("unknown category");
    if (!in.sku.empty()) {
      EMP_ASSIGN_OR_RETURN(bool taken, store_.SkuExists(tx, in.sku));
      if (taken) return AlreadyExists("sku " + in.sku + " is taken");
    }
    EMP_ASSIGN_OR_RETURN(int64_t num, store_.NextNumbers(tx, "product", 1));
    EMP_ASSIGN_OR_RETURN(out, store_.InsertProduct(tx, num, in, *category, Now()));
    return AddToOutbox(tx, {ProductCreated(out)});
  });
  if (s.code() == Code::kInvalidArgument) errors->push_back({"category_id", "does not exist"});
  if (s.code() == Code::kAlreadyExists) errors->push_back({"sku", "is already used by another product"});
  if (!s.ok()) return s;
  notify_();
  return out;
}

Result<Product> Catalog::Update(const std::string& id, const ProductPatch& patch, FieldErrors* errors) {
  if (patch.sku) {
    if (patch.sku->empty()) errors->push_back({"sku", "must not be empty"});
    CheckSku(*patch.sku, *errors);
  }
  if (patch.title) CheckText("title", *patch.title, kMaxTitle, true, *errors);
  if (patch.description) CheckText("description", *patch.description, kMaxDescription, false, *errors);
  if (patch.brand) CheckText("brand", *patch.brand, kMaxBrand, false, *errors);
  if (patch.price) CheckMoney(*patch.price, *errors);
  if (!errors->empty()) return InvalidArgument("invalid product");
  Product out;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(auto current, store_.ProductById(tx, id));
    if (!current) return NotFound("product " + id + " does not exist");
    if (patch.if_version && *patch.if_version != current->version) {
      return FailedPrecondition("the product is at version " + std::to_string(current->version));
    }
    Product p = std::move(*current);
    if (patch.category_id && *patch.category_id != p.category.id) {
      EMP_ASSIGN_OR_RETURN(auto category, store_.CategoryById(tx, *patch.category_id));
      if (!category) return InvalidArgument("unknown category");
      p.category = std::move(*category);
    }
    if (patch.sku && *patch.sku != p.sku) {
      EMP_ASSIGN_OR_RETURN(bool taken, store_.SkuExists(tx, *patch.sku));
      if (taken) return AlreadyExists("sku " + *patch.sku + " is taken");
      p.sku = *patch.sku;
    }
    if (patch.title) p.title = *patch.title;
    if (patch.description) p.description = *patch.description;
    if (patch.brand) p.brand = *patch.brand;
    if (patch.price) p.price = *patch.price;
    if (patch.attributes_json) p.attributes_json = *patch.attributes_json;
    p.version += 1;
    p.updated_at = Now();
    EMP_RETURN_IF_ERROR(store_.UpdateProduct(tx, p));
    out = p;
    return AddToOutbox(tx, {ProductUpdated(p)});
  });
  if (s.code() == Code::kInvalidArgument) errors->push_back({"category_id", "does not exist"});
  if (s.code() == Code::kAlreadyExists) errors->push_back({"sku", "is already used by another product"});
  if (!s.ok()) return s;
  notify_();
  return out;
}

Status Catalog::Delete(const std::string& id) {
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(auto current, store_.ProductById(tx, id));
    if (!current) return NotFound("product " + id + " does not exist");
    EMP_RETURN_IF_ERROR(store_.MarkDeleted(tx, id, Now()));
    return AddToOutbox(tx, {ProductDeleted(id)});
  }));
  notify_();
  return Status::Ok();
}

Result<Category> Catalog::CreateCategory(const std::string& parent_id, const std::string& name,
                                         FieldErrors* errors) {
  CheckText("name", name, 100, true, *errors);
  if (!errors->empty()) return InvalidArgument("invalid category");
  Category out;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(out, store_.EnsureCategory(tx, parent_id, Trim(name), Now()));
    return Status::Ok();
  });
  if (s.code() == Code::kNotFound) {
    errors->push_back({"parent_id", "does not exist"});
    return InvalidArgument("invalid category");
  }
  if (!s.ok()) return s;
  return out;
}

Status Catalog::InsertBatch(const std::vector<NewProduct>& products) {
  if (products.empty()) return Status::Ok();
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    std::map<std::string, Category> categories;
    EMP_ASSIGN_OR_RETURN(int64_t num,
                         store_.NextNumbers(tx, "product", static_cast<int64_t>(products.size())));
    Events events;
    events.reserve(products.size());
    const int64_t now = Now();
    for (const NewProduct& in : products) {
      auto it = categories.find(in.category_id);
      if (it == categories.end()) {
        EMP_ASSIGN_OR_RETURN(auto c, store_.CategoryById(tx, in.category_id));
        if (!c) return InvalidArgument("unknown category " + in.category_id);
        it = categories.emplace(in.category_id, std::move(*c)).first;
      }
      EMP_ASSIGN_OR_RETURN(Product p, store_.InsertProduct(tx, num++, in, it->second, now));
      events.push_back(ProductCreated(p));
    }
    return AddToOutbox(tx, events);
  }));
  notify_();
  return Status::Ok();
}

Result<Category> Catalog::EnsureCategoryPath(const std::vector<std::string>& names) {
  if (names.empty()) return InvalidArgument("empty category path");
  Category leaf;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    std::string parent;
    for (const auto& n : names) {
      EMP_ASSIGN_OR_RETURN(leaf, store_.EnsureCategory(tx, parent, n, Now()));
      parent = leaf.id;
    }
    return Status::Ok();
  }));
  return leaf;
}

}  // namespace emporium::catalog
