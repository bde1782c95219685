// The shared suite against PostgreSQL (EMP_TEST_POSTGRES_URL, a fresh schema per test), plus
// PostgreSQL-only tests: schema isolation, reconnects, unreachable server.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "platform/core/random.h"
#include "platform/sql/sql_suite.h"

namespace emporium::sql::testing {
namespace {

std::string BaseUrl() {
  const char* url = std::getenv("EMP_TEST_POSTGRES_URL");
  return url == nullptr ? "" : url;
}

std::string WithParams(const std::string& base, const std::string& params) {
  return base + (base.find('?') == std::string::npos ? "?" : "&") + params;
}

class PostgresBackend final : public TestBackend {
 public:
  std::string Name() const override { return "Postgres"; }
  std::string NewUrl() override {
    std::string base = BaseUrl();
    if (base.empty()) {
      ADD_FAILURE() << "EMP_TEST_POSTGRES_URL is not set; start a server with "
                       "`eval \"$(tests/harness/postgres.sh start DIR)\"` or run `make test`";
      return "";
    }
    schema_ = "emp_test_" + RandomHex(6);
    return WithParams(base, "schema=" + schema_ + "&application_name=" + schema_);
  }
  void Drop(const std::string&) override {
    auto admin = Open(BaseUrl());
    if (!admin.ok()) return;
    Status s = (*admin)->Transact(
        [&](Tx& tx) { return tx.ExecScript("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE"); });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  const std::string& schema() const { return schema_; }

 private:
  std::string schema_;
};

PostgresBackend postgres_backend;
INSTANTIATE_TEST_SUITE_P(Postgres, SqlSuite, ::testing::Values(&postgres_backend), BackendName);

class PostgresOnly : public SqlSuite {};
INSTANTIATE_TEST_SUITE_P(Postgres, PostgresOnly, ::testing::Values(&postgres_backend), BackendName);

TEST_P(PostgresOnly, EachDatabaseLivesInItsOwnSchema) {
  EXPECT_EQ(db_->dialect(), Dialect::kPostgres);
  auto rs = db_->Query("SELECT current_schema()");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->rows[0].Text(0), postgres_backend.schema());
  ASSERT_TRUE(db_->Query("CREATE TABLE mine (x BIGINT)").ok());

  std::string other_schema = "emp_test_" + RandomHex(6);
  auto other = Open(WithParams(BaseUrl(), "schema=" + other_schema));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto missing = (*other)->Query("SELECT COUNT(*) FROM mine");
  EXPECT_FALSE(missing.ok()) << "a table of another schema was visible";
  Status s =
      (*other)->Transact([&](Tx& tx) { return tx.ExecScript("DROP SCHEMA " + other_schema + " CASCADE"); });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(PostgresOnly, ReconnectsAfterTheServerDropsConnections) {
  ASSERT_TRUE(db_->Query("CREATE TABLE t (x BIGINT)").ok());
  auto admin = Open(BaseUrl());
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  auto killed =
      (*admin)->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                      {postgres_backend.schema()});
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_GE(killed->rows.size(), 1u);
  auto rs = db_->Query("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  auto count = db_->Query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->rows[0].Int(0), 1);
}

TEST_P(PostgresOnly, TypesComeBackTyped) {
  auto rs = db_->Query(
      "SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, true, 'x'::text, '\\x00ff'::bytea, "
      "NULL::text, 12.50::numeric");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  const Row& row = rs->rows.at(0);
  EXPECT_EQ(row.at(0), Value(int64_t{1}));
  EXPECT_EQ(row.at(1), Value(int64_t{2}));
  EXPECT_EQ(row.at(2), Value(int64_t{3}));
  EXPECT_EQ(row.at(3), Value(1.5));
  EXPECT_EQ(row.at(4), Value(int64_t{1}));
  EXPECT_EQ(row.at(5), Value(std::string("x")));
  EXPECT_EQ(row.at(6), Value(Bytes{std::string("\0\xff", 2)}));
  EXPECT_TRUE(row.IsNull(7));
  EXPECT_EQ(row.Text(8), "12.50");
  EXPECT_DOUBLE_EQ(row.Real(8), 12.5);
}

TEST(PostgresOpen, UnreachableServerIsUnavailable) {
  auto start = std::chrono::steady_clock::now();
  auto db = Open("postgres://postgres@127.0.0.1:1/postgres?connect_timeout=2");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kUnavailable) << db.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(PostgresOpen, BadSchemaNameIsInvalidArgument) {
  auto db = Open("postgres://postgres@127.0.0.1:1/postgres?schema=a;drop");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace emporium::sql::testing
