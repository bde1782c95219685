// The no-oversell concurrency run against PostgreSQL (SERIALIZABLE transactions).
// Needs EMP_TEST_POSTGRES_URL (set by tests/harness/run-tests.sh); fails without it.
#include <cstdlib>

#include "services/catalog/inventory_suite.h"

namespace emporium::catalog {
namespace {

TEST(ReservationConcurrencyPostgres, SixteenThreadsNeverOversell) {
  const char* url = std::getenv("EMP_TEST_POSTGRES_URL");
  ASSERT_TRUE(url != nullptr && *url != '\0') << "EMP_TEST_POSTGRES_URL is not set (run via make test)";
  testing::Env env({std::string("--sql-url=") + url});
  Status s = env.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  testing::RunConcurrentReservations(env, 25);
}

}  // namespace
}  // namespace emporium::catalog
