// The backend-independent test suite for emporium::sql, shared by platform_sql_test (SQLite)
// and platform_sql_postgres_test (PostgreSQL). Each binary instantiates SqlSuite with its
// TestBackend. Not thread-safe (test fixture).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "platform/sql/sql.h"

namespace emporium::sql::testing {

class TestBackend {
 public:
  virtual ~TestBackend() = default;
  virtual std::string Name() const = 0;
  // A URL of a fresh, empty database (opening it again reaches the same data). Records a test
  // failure and returns "" when the backend is not configured.
  virtual std::string NewUrl() = 0;
  // Removes what NewUrl created.
  virtual void Drop(const std::string& url) = 0;
};

class SqlSuite : public ::testing::TestWithParam<TestBackend*> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // The script for this backend: SQLite and PostgreSQL spell some types differently.
  std::string Pick(const std::string& sqlite, const std::string& postgres) const;

  std::string url_;
  std::unique_ptr<Database> db_;
};

std::string BackendName(const ::testing::TestParamInfo<TestBackend*>& info);

// Rows in table (-1 and a test failure when the query fails).
int64_t Count(Database& db, const std::string& table);
// Creates the suite's tables: items (id, name, price) and tags (item_id, tag).
Status CreateItems(Database& db);

}  // namespace emporium::sql::testing
