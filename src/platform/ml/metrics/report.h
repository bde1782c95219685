// The result table of an `emporium eval` command: aligned columns on a terminal, or one JSON
// document for machines (--json). Every eval command prints through this, so they all look alike.
//
//   Report r("recommend", "movielens-latest-small, 75/25 per-user split, seed 42");
//   r.SetColumns({"NDCG@10", "P@10"});
//   r.AddRow("als", {0.31, 0.22});
//   r.Print(std::cout, /*json=*/false);
// Not thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace emporium::ml {

class Report {
 public:
  Report(std::string name, std::string description);
  void SetColumns(std::vector<std::string> columns);
  // values align with the columns; NaN prints as "-" (and null in JSON).
  void AddRow(std::string label, std::vector<double> values);
  // Facts about the run (dataset, split, sizes, timings) printed above the table.
  void AddNote(std::string key, std::string value);
  void Print(std::ostream& out, bool json) const;

 private:
  std::string name_;
  std::string description_;
  std::vector<std::string> columns_;
  std::vector<std::pair<std::string, std::vector<double>>> rows_;
  std::vector<std::pair<std::string, std::string>> notes_;
};

}  // namespace emporium::ml
