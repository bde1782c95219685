// Tests every backend must pass: CRUD, parameters, transactions, concurrency, migrations,
// durability.
#include "platform/sql/sql_suite.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace emporium::sql::testing {

void SqlSuite::SetUp() {
  url_ = GetParam()->NewUrl();
  ASSERT_FALSE(url_.empty()) << "backend " << GetParam()->Name() << " is not configured";
  auto db = Open(url_);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
}

void SqlSuite::TearDown() {
  db_.reset();
  if (!url_.empty()) GetParam()->Drop(url_);
}

std::string SqlSuite::Pick(const std::string& sqlite, const std::string& postgres) const {
  return db_->dialect() == Dialect::kSqlite ? sqlite : postgres;
}

std::string BackendName(const ::testing::TestParamInfo<TestBackend*>& info) {
  return info.param->Name();
}

int64_t Count(Database& db, const std::string& table) {
  auto rs = db.Query("SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(rs.ok()) << rs.status().ToString();
  return rs.ok() ? rs->rows.at(0).Int(0) : -1;
}

Status CreateItems(Database& db) {
  return db.Transact([](Tx& tx) {
    return tx.ExecScript(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price BIGINT);"
        "CREATE TABLE tags (item_id BIGINT NOT NULL REFERENCES items(id), tag TEXT NOT NULL);");
  });
}

namespace {

TEST_P(SqlSuite, CreateReadUpdateDelete) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  for (int64_t id = 1; id <= 3; ++id) {
    auto ins = db_->Query("INSERT INTO items (id, name, price) VALUES ($1, $2, $3)",
                          {id, "item" + std::to_string(id), id * 100});
    ASSERT_TRUE(ins.ok()) << ins.status().ToString();
    EXPECT_EQ(ins->affected, 1);
  }
  auto rs = db_->Query("SELECT id, name, price FROM items ORDER BY id");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_EQ(rs->rows.size(), 3u);
  EXPECT_EQ(rs->columns, (std::vector<std::string>{"id", "name", "price"}));
  EXPECT_EQ(rs->rows[1].Int(0), 2);
  EXPECT_EQ(rs->rows[1].Text(1), "item2");
  EXPECT_EQ(rs->rows[1].Int(2), 200);

  auto upd = db_->Query("UPDATE items SET price = price + $1 WHERE id >= $2", {int64_t{5}, int64_t{2}});
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  EXPECT_EQ(upd->affected, 2);
  auto del = db_->Query("DELETE FROM items WHERE id = $1", {int64_t{1}});
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->affected, 1);
  EXPECT_EQ(Count(*db_, "items"), 2);
  auto sum = db_->Query("SELECT SUM(price) FROM items");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->rows[0].Int(0), 205 + 305);
  auto none = db_->Query("SELECT id FROM items WHERE id = $1", {int64_t{42}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->rows.empty());
}

TEST_P(SqlSuite, ParametersOfEveryTypeRoundTrip) {
  ASSERT_TRUE(db_->Transact([&](Tx& tx) {
                   return tx.ExecScript(Pick("CREATE TABLE v (k BIGINT, i BIGINT, r REAL, t TEXT, b BLOB)",
                                             "CREATE TABLE v (k BIGINT, i BIGINT, r DOUBLE PRECISION, t TEXT,"
                                             " b BYTEA)"));
                 })
                  .ok());
  const std::string binary("\0\x01\xff\x00zz\n'\"\\", 10);
  const std::string text = "h\xc3\xa9llo 'quoted' \"double\" \\ $1";
  const int64_t big = std::numeric_limits<int64_t>::max();
  const int64_t small = std::numeric_limits<int64_t>::min();
  struct Case {
    int64_t k;
    Value i, r, t, b;
  };
  std::vector<Case> cases = {
      {1, big, 3.25, text, Bytes{binary}},
      {2, small, -1e300, std::string(), Bytes{}},
      {3, Null{}, Null{}, Null{}, Null{}},
      {4, int64_t{0}, 0.1, std::string("x"), Bytes{std::string(1, '\0')}},
  };
  for (const Case& c : cases) {
    // Parameters in an order different from their use, to check $N binds by number.
    auto ins = db_->Query("INSERT INTO v (t, b, k, i, r) VALUES ($4, $5, $1, $2, $3)",
                          {Value(c.k), c.i, c.r, c.t, c.b});
    ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  }
  auto rs = db_->Query("SELECT k, i, r, t, b FROM v ORDER BY k");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_EQ(rs->rows.size(), cases.size());
  for (size_t n = 0; n < cases.size(); ++n) {
    const Row& row = rs->rows[n];
    SCOPED_TRACE("row " + std::to_string(n));
    EXPECT_EQ(row.at(1), cases[n].i);
    EXPECT_EQ(row.at(2), cases[n].r);
    EXPECT_EQ(row.at(3), cases[n].t);
    EXPECT_EQ(row.at(4), cases[n].b);
  }
  EXPECT_EQ(rs->rows[0].Blob(4).size(), 10u);
  EXPECT_TRUE(rs->rows[2].IsNull(3));
  EXPECT_FALSE(rs->rows[1].IsNull(3));

  // A parameter used twice, and a NULL parameter compared with IS NULL.
  auto again = db_->Query("SELECT k FROM v WHERE i = $1 AND i >= $1", {big});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->rows.size(), 1u);
  EXPECT_EQ(again->rows[0].Int(0), 1);
  auto by_blob = db_->Query("SELECT k FROM v WHERE b = $1", {Bytes{binary}});
  ASSERT_TRUE(by_blob.ok()) << by_blob.status().ToString();
  ASSERT_EQ(by_blob->rows.size(), 1u);
  EXPECT_EQ(by_blob->rows[0].Int(0), 1);
}

TEST_P(SqlSuite, WrongParameterCountIsInvalidArgument) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  auto rs = db_->Query("SELECT id FROM items WHERE id = $1", {int64_t{1}, int64_t{2}});
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), Code::kInvalidArgument) << rs.status().ToString();
  // The connection stays usable afterwards.
  EXPECT_EQ(Count(*db_, "items"), 0);
}

TEST_P(SqlSuite, DollarSignsInLiteralsAndCommentsAreNotParameters) {
  auto rs = db_->Query("SELECT $1, 'costs $2' /* $3 */, \"a$4\" -- $5\n FROM (SELECT 1 AS \"a$4\") q",
                       {int64_t{5}});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->rows.at(0).at(0), Value(int64_t{5}));
  EXPECT_EQ(rs->rows.at(0).Text(1), "costs $2");
  EXPECT_EQ(rs->rows.at(0).Int(2), 1);
  auto missing = db_->Query("SELECT $1, $2", {int64_t{5}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalidArgument) << missing.status().ToString();
}

TEST_P(SqlSuite, ConstraintViolationsMapToCodes) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  ASSERT_TRUE(db_->Query("INSERT INTO items (id, name) VALUES (1, 'a')").ok());
  auto dup = db_->Query("INSERT INTO items (id, name) VALUES (1, 'b')");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists) << dup.status().ToString();
  auto orphan = db_->Query("INSERT INTO tags (item_id, tag) VALUES (99, 'x')");
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.status().code(), Code::kFailedPrecondition) << orphan.status().ToString();
  auto syntax = db_->Query("SELEKT 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), Code::kInternal);
}

TEST_P(SqlSuite, TransactionCommits) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  Status s = db_->Transact([](Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(tx.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{1}, "a"}));
    EMP_RETURN_IF_ERROR(tx.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{2}, "b"}));
    // Reads inside the transaction see its own writes.
    EMP_ASSIGN_OR_RETURN(ResultSet rs, tx.Query("SELECT COUNT(*) FROM items"));
    if (rs.rows[0].Int(0) != 2) return Internal("own writes not visible");
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(*db_, "items"), 2);
}

TEST_P(SqlSuite, TransactionRollsBackWhenFnFails) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  int runs = 0;
  Status s = db_->Transact([&](Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(tx.Exec("INSERT INTO items (id, name) VALUES (1, 'a')"));
    ++runs;  // past the write: SQLite may have run fn as a reader up to it first
    return Conflict("business rule says no");
  });
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(s.message(), "business rule says no");
  EXPECT_EQ(runs, 1) << "a plain error must not be retried";
  EXPECT_EQ(Count(*db_, "items"), 0);
}

TEST_P(SqlSuite, TransactionRollsBackWhenStatementFails) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  ASSERT_TRUE(db_->Query("INSERT INTO items (id, name) VALUES (1, 'a')").ok());
  Status s = db_->Transact([](Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(tx.Exec("INSERT INTO items (id, name) VALUES (2, 'b')"));
    return tx.Exec("INSERT INTO items (id, name) VALUES (1, 'again')");
  });
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_EQ(Count(*db_, "items"), 1);
}

TEST_P(SqlSuite, TransactionRollsBackWhenFnIgnoresAFailedStatement) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  ASSERT_TRUE(db_->Query("INSERT INTO items (id, name) VALUES (1, 'a')").ok());
  Status s = db_->Transact([](Tx& tx) -> Status {
    (void)tx.Exec("INSERT INTO items (id, name) VALUES (1, 'dup')");
    return tx.Exec("INSERT INTO items (id, name) VALUES (2, 'b')");
  });
  // SQLite lets the transaction go on after a failed statement; PostgreSQL aborts it. Either
  // way nothing half-done may be reported as success.
  if (s.ok()) {
    EXPECT_EQ(Count(*db_, "items"), 2);
  } else {
    EXPECT_EQ(Count(*db_, "items"), 1);
  }
}

TEST_P(SqlSuite, ExceptionInFnBecomesInternalAndRollsBack) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  Status s = db_->Transact([](Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(tx.Exec("INSERT INTO items (id, name) VALUES (1, 'a')"));
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("boom"), std::string::npos);
  EXPECT_EQ(Count(*db_, "items"), 0);
}

TEST_P(SqlSuite, ConcurrentReadModifyWriteIncrementsAddUp) {
  ASSERT_TRUE(db_->Transact([](Tx& tx) {
                   return tx.ExecScript(
                       "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
                       "CREATE TABLE log (thread BIGINT NOT NULL, seq BIGINT NOT NULL);"
                       "INSERT INTO counter VALUES (1, 0);");
                 })
                  .ok());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        // Read, then write the value read: a lost update shows up as a short count.
        Status s = db_->Transact([&](Tx& tx) -> Status {
          EMP_ASSIGN_OR_RETURN(ResultSet rs, tx.Query("SELECT n FROM counter WHERE id = 1"));
          int64_t n = rs.rows.at(0).Int(0);
          EMP_RETURN_IF_ERROR(tx.Exec("UPDATE counter SET n = $1 WHERE id = 1", {n + 1}));
          return tx.Exec("INSERT INTO log (thread, seq) VALUES ($1, $2)", {int64_t{t}, int64_t{i}});
        });
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  auto rs = db_->Query("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Int(0), kThreads * kIncrements);
  EXPECT_EQ(Count(*db_, "log"), kThreads * kIncrements);
}

TEST_P(SqlSuite, ReadersProceedWhileAWriterHoldsItsTransaction) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  ASSERT_TRUE(db_->Query("INSERT INTO items (id, name) VALUES (1, 'a')").ok());
  std::mutex mu;
  std::condition_variable cv;
  bool writer_inside = false;
  bool reader_done = false;
  int64_t reader_saw = -1;
  std::thread writer([&] {
    Status s = db_->Transact([&](Tx& tx) -> Status {
      EMP_RETURN_IF_ERROR(tx.Exec("INSERT INTO items (id, name) VALUES (2, 'b')"));
      std::unique_lock lock(mu);
      writer_inside = true;
      cv.notify_all();
      // The reader must finish while this write transaction is still open.
      if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return reader_done; })) {
        return DeadlineExceeded("reader was blocked by the writer");
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return writer_inside; });
  }
  auto rs = db_->Query("SELECT COUNT(*) FROM items");
  {
    std::lock_guard lock(mu);
    reader_done = true;
    reader_saw = rs.ok() ? rs->rows[0].Int(0) : -1;
  }
  cv.notify_all();
  writer.join();
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(reader_saw, 1) << "a reader must not see uncommitted rows";
  EXPECT_EQ(Count(*db_, "items"), 2);
}

TEST_P(SqlSuite, DataSurvivesReopen) {
  ASSERT_TRUE(CreateItems(*db_).ok());
  ASSERT_TRUE(db_->Query("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{7}, "kept"}).ok());
  db_.reset();
  auto reopened = Open(url_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  db_ = std::move(reopened).value();
  auto rs = db_->Query("SELECT name FROM items WHERE id = $1", {int64_t{7}});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0].Text(0), "kept");
}

std::vector<Migration> OrdersMigrations() {
  return {
      {1, "create_orders", "CREATE TABLE orders (id BIGINT PRIMARY KEY, total BIGINT NOT NULL)"},
      {2, "seed_order", "INSERT INTO orders (id, total) VALUES (1, 100)"},
      {3, "add_receipt", "", "ALTER TABLE orders ADD COLUMN receipt BLOB",
       "ALTER TABLE orders ADD COLUMN receipt BYTEA"},
  };
}

TEST_P(SqlSuite, MigrationsApplyOnceAndRerunIsANoOp) {
  auto migrations = OrdersMigrations();
  Status s = Migrate(*db_, "orders", migrations);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(*db_, "orders"), 1);
  s = Migrate(*db_, "orders", migrations);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(*db_, "orders"), 1) << "seed migration ran twice";
  // The dialect variant ran: the BLOB/BYTEA column takes bytes.
  auto upd = db_->Query("UPDATE orders SET receipt = $1 WHERE id = 1", {Bytes{std::string("\0r", 2)}});
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  auto rs =
      db_->Query("SELECT version, name, applied_at FROM schema_migrations WHERE module = $1 ORDER BY version",
                 {"orders"});
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->rows.size(), 3u);
  EXPECT_EQ(rs->rows[2].Int(0), 3);
  EXPECT_EQ(rs->rows[2].Text(1), "add_receipt");
  EXPECT_FALSE(rs->rows[2].Text(2).empty());
}

TEST_P(SqlSuite, MigrationsAddedLaterApplyOnTop) {
  auto migrations = OrdersMigrations();
  std::vector<Migration> first(migrations.begin(), migrations.begin() + 1);
  ASSERT_TRUE(Migrate(*db_, "orders", first).ok());
  EXPECT_EQ(Count(*db_, "orders"), 0);
  Status s = Migrate(*db_, "orders", migrations);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(*db_, "orders"), 1);
  // Another module's migrations are tracked separately.
  std::vector<Migration> other = {{1, "create_carts", "CREATE TABLE carts (id BIGINT)"}};
  ASSERT_TRUE(Migrate(*db_, "carts", other).ok());
  EXPECT_EQ(Count(*db_, "schema_migrations"), 4);
}

TEST_P(SqlSuite, UnknownNewerVersionFails) {
  auto migrations = OrdersMigrations();
  ASSERT_TRUE(Migrate(*db_, "orders", migrations).ok());
  std::vector<Migration> older(migrations.begin(), migrations.begin() + 2);
  Status s = Migrate(*db_, "orders", older);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("3"), std::string::npos);
}

TEST_P(SqlSuite, RenamedMigrationFails) {
  auto migrations = OrdersMigrations();
  ASSERT_TRUE(Migrate(*db_, "orders", migrations).ok());
  migrations[1].name = "seed_first_order";
  Status s = Migrate(*db_, "orders", migrations);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
}

TEST_P(SqlSuite, FailedMigrationIsNotRecordedAndRollsBack) {
  std::vector<Migration> migrations = {
      {1, "create_a", "CREATE TABLE a (id BIGINT)"},
      {2, "broken", "CREATE TABLE b (id BIGINT); INSERT INTO nowhere VALUES (1)"},
  };
  Status s = Migrate(*db_, "m", migrations);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("broken"), std::string::npos) << s.ToString();
  EXPECT_EQ(Count(*db_, "schema_migrations"), 1);
  EXPECT_FALSE(db_->Query("SELECT COUNT(*) FROM b").ok()) << "half a migration was kept";
  migrations[1].sql = "CREATE TABLE b (id BIGINT)";
  s = Migrate(*db_, "m", migrations);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(*db_, "b"), 0);
}

TEST_P(SqlSuite, BadMigrationListIsInvalidArgument) {
  std::vector<Migration> migrations = {{2, "b", "SELECT 1"}, {1, "a", "SELECT 1"}};
  EXPECT_EQ(Migrate(*db_, "m", migrations).code(), Code::kInvalidArgument);
}

TEST_P(SqlSuite, ConcurrentMigratorsApplyEachMigrationOnce) {
  // Several "processes" (separate Database objects) start at once against the same database.
  constexpr int kProcesses = 4;
  auto migrations = OrdersMigrations();
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kProcesses; ++i) {
    auto db = Open(url_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    dbs.push_back(std::move(db).value());
  }
  std::vector<Status> results(kProcesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] { results[i] = Migrate(*dbs[i], "orders", migrations); });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(*db_, "orders"), 1);
  EXPECT_EQ(Count(*db_, "schema_migrations"), 3);
}

}  // namespace
}  // namespace emporium::sql::testing
