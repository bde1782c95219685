// The shared suite against SQLite (a temp file per test), plus SQLite-only and Row tests.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "platform/core/random.h"
#include "platform/sql/sql_suite.h"

namespace emporium::sql::testing {
namespace {

class SqliteBackend final : public TestBackend {
 public:
  std::string Name() const override { return "Sqlite"; }
  std::string NewUrl() override {
    dir_ = std::filesystem::temp_directory_path() / ("emp-sql-" + RandomHex(8));
    // A missing parent directory is created by Open.
    return "sqlite://" + (dir_ / "sub" / "test.db").string();
  }
  void Drop(const std::string&) override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::filesystem::path dir_;
};

SqliteBackend sqlite_backend;
INSTANTIATE_TEST_SUITE_P(Sqlite, SqlSuite, ::testing::Values(&sqlite_backend), BackendName);

class SqliteOnly : public SqlSuite {};
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteOnly, ::testing::Values(&sqlite_backend), BackendName);

TEST_P(SqliteOnly, UsesWalFullSyncAndForeignKeys) {
  auto rs = db_->Query("PRAGMA journal_mode");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->rows[0].Text(0), "wal");
  rs = db_->Query("PRAGMA synchronous");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Int(0), 2) << "synchronous must be FULL";
  rs = db_->Query("PRAGMA foreign_keys");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Int(0), 1);
  EXPECT_EQ(db_->dialect(), Dialect::kSqlite);
}

TEST_P(SqliteOnly, SeveralStatementsInQueryAreRejected) {
  auto rs = db_->Query("SELECT 1; SELECT 2");
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), Code::kInvalidArgument);
}

// Writers of many threads share commits (group commit); each one's failure rolls back alone.
TEST_P(SqliteOnly, ConcurrentWritersCommitTogetherAndFailAlone) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> committed{0}, refused{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int64_t id = t * 1000 + i;
        Status s = db_->Transact([&](Tx& tx) -> Status {
          EMP_RETURN_IF_ERROR(tx.Exec("INSERT INTO items (id, name) VALUES ($1, 'x')", {id}));
          // A failure after the write must undo this transaction's rows only.
          return id % 7 == 0 ? Conflict("no sevens") : Status::Ok();
        });
        (s.ok() ? committed : refused)++;
        if (!s.ok()) {
          EXPECT_EQ(s.code(), Code::kConflict) << s.ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(committed + refused, kThreads * kEach);
  EXPECT_EQ(Count(*db_, "items"), committed.load());
  auto sevens = db_->Query("SELECT COUNT(*) FROM items WHERE id % 7 = 0");
  ASSERT_TRUE(sevens.ok());
  EXPECT_EQ(sevens->rows[0].Int(0), 0);
}

// The first run of a transaction stops at its first write (reader probe); the write still
// happens when fn ignores that failure, because fn is run again by the writer.
TEST_P(SqliteOnly, WriteHappensWhenFnIgnoresTheProbeFailure) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  int runs = 0;
  Status s = db_->Transact([&](Tx& tx) -> Status {
    ++runs;
    (void)tx.Exec("INSERT INTO items (id, name) VALUES (1, 'a')");
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(Count(*db_, "items"), 1);
}

TEST(SqliteOpen, MemoryDatabaseWorks) {
  auto db = Open("sqlite::memory:");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Transact([](Tx& tx) { return tx.ExecScript("CREATE TABLE t (x BIGINT)"); }).ok());
  ASSERT_TRUE((*db)->Query("INSERT INTO t VALUES ($1)", {int64_t{5}}).ok());
  auto rs = (*db)->Query("SELECT x FROM t");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows.at(0).Int(0), 5);
}

TEST(SqliteOpen, UnknownSchemeIsInvalidArgument) {
  auto db = Open("mysql://root@localhost/db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open("sqlite://").status().code(), Code::kInvalidArgument);
}

TEST(SqliteOpen, UnopenablePathIsUnavailable) {
  auto db = Open("sqlite:///proc/definitely/not/here.db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kUnavailable) << db.status().ToString();
}

TEST(RowTest, AccessorsConvertBetweenTextAndNumbers) {
  Row row({Value(std::string("42")), Value(int64_t{7}), Value(2.5), Value(Null{}),
           Value(Bytes{std::string("\0a", 2)}), Value(std::string("123.75"))});
  EXPECT_EQ(row.size(), 6u);
  EXPECT_EQ(row.Int(0), 42);
  EXPECT_DOUBLE_EQ(row.Real(0), 42.0);
  EXPECT_EQ(row.Text(1), "7");
  EXPECT_DOUBLE_EQ(row.Real(1), 7.0);
  EXPECT_EQ(row.Int(2), 2);
  EXPECT_EQ(row.Text(2), "2.5");
  EXPECT_TRUE(row.IsNull(3));
  EXPECT_EQ(row.Int(3), 0);
  EXPECT_EQ(row.Text(3), "");
  EXPECT_EQ(row.Blob(4), std::string("\0a", 2));
  EXPECT_EQ(row.Int(5), 123);
  EXPECT_DOUBLE_EQ(row.Real(5), 123.75);
  EXPECT_EQ(row.Text(0), "42");
}

}  // namespace
}  // namespace emporium::sql::testing
