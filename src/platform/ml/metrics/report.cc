#include "platform/ml/metrics/report.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <cstdio>

#include "platform/core/json.h"

namespace emporium::ml {

Report::Report(std::string name, std::string description)
    : name_(std::move(name)), description_(std::move(description)) {}

void Report::SetColumns(std::vector<std::string> columns) {
  columns_ = std::move(columns);
}

void Report::AddRow(std::string label, std::vector<double> values) {
  rows_.emplace_back(std::move(label), std::move(values));
}

void Report::AddNote(std::string key, std::string value) {
  notes_.emplace_back(std::move(key), std::move(value));
}

void Report::Print(std::ostream& out, bool json) const {
  if (json) {
    boost::json::object doc{{"name", name_}, {"description", description_}};
    boost::json::object notes;
    for (const auto& [k, v] : notes_) notes[k] = v;
    doc["notes"] = std::move(notes);
    boost::json::array rows;
    for (const auto& [label, values] : rows_) {
      boost::json::object row{{"name", label}};
      for (size_t i = 0; i < columns_.size(); ++i) {
        if (i < values.size() && std::isfinite(values[i])) {
          row[columns_[i]] = values[i];
        } else {
          row[columns_[i]] = nullptr;
        }
      }
      rows.push_back(std::move(row));
    }
    doc["rows"] = std::move(rows);
    out << json::Dump(doc) << "\n";
    return;
  }
  out << name_ << ": " << description_ << "\n";
  for (const auto& [k, v] : notes_) out << "  " << k << ": " << v << "\n";
  size_t label_width = 4;
  for (const auto& row : rows_) label_width = std::max(label_width, row.first.size());
  std::vector<size_t> widths;
  for (const std::string& c : columns_) widths.push_back(std::max<size_t>(c.size(), 8));
  auto pad = [&out](const std::string& s, size_t w, bool right) {
    if (right)
      out << std::string(w > s.size() ? w - s.size() : 0, ' ') << s;
    else
      out << s << std::string(w > s.size() ? w - s.size() : 0, ' ');
  };
  out << "\n";
  pad("", label_width, false);
  for (size_t i = 0; i < columns_.size(); ++i) {
    out << "  ";
    pad(columns_[i], widths[i], true);
  }
  out << "\n";
  for (const auto& [label, values] : rows_) {
    pad(label, label_width, false);
    for (size_t i = 0; i < columns_.size(); ++i) {
      char buf[32] = "-";
      if (i < values.size() && std::isfinite(values[i])) {
        const double v = values[i];
        if (std::fabs(v) >= 1000 || v == std::floor(v))
          std::snprintf(buf, sizeof buf, "%.0f", v);
        else
          std::snprintf(buf, sizeof buf, "%.4f", v);
      }
      out << "  ";
      pad(buf, widths[i], true);
    }
    out << "\n";
  }
}

}  // namespace emporium::ml
