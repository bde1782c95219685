#include "services/catalog/csv.h"

#include <zlib.h>

#include <filesystem>

namespace emporium::catalog {

Result<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path) {
  auto f = std::make_unique<InputFile>();
  gzFile gz = path == "-" ? gzdopen(0, "rb") : gzopen(path.c_str(), "rb");
  if (gz == nullptr) return NotFound("cannot open " + path);
  gzbuffer(gz, 1 << 17);
  f->gz_ = gz;
  std::error_code ec;
  if (path != "-") {
    auto size = std::filesystem::file_size(path, ec);
    if (!ec) f->size_ = static_cast<int64_t>(size);
  }
  return f;
}

InputFile::~InputFile() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

bool InputFile::Fill() {
  int n = gzread(static_cast<gzFile>(gz_), buf_.data(), static_cast<unsigned>(buf_.size()));
  if (n < 0) {
    int code = 0;
    error_ = gzerror(static_cast<gzFile>(gz_), &code);
    n = 0;
  }
  pos_ = 0;
  len_ = static_cast<size_t>(n);
  return n > 0;
}

int64_t InputFile::consumed() const {
  return static_cast<int64_t>(gzoffset(static_cast<gzFile>(gz_)));
}

bool CsvReader::Next(std::vector<std::string>& fields) {
  fields.clear();
  if (in_.Peek() < 0) return false;
  record_line_ = next_line_;
  std::string field;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // the current field started with a quote
  while (true) {
    int c = in_.Get();
    if (c < 0) break;
    if (quoted) {
      if (c == '"') {
        if (in_.Peek() == '"') {
          in_.Get();
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++next_line_;
        field += static_cast<char>(c);
      }
      continue;
    }
    if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == delimiter_) {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && in_.Peek() == '\n') in_.Get();
      ++next_line_;
      break;
    } else {
      // Lenient: characters after a closing quote, or a quote inside an unquoted field, are kept.
      field += static_cast<char>(c);
    }
  }
  fields.push_back(std::move(field));
  return true;
}

bool ReadLine(InputFile& in, std::string& line) {
  line.clear();
  if (in.Peek() < 0) return false;
  while (true) {
    int c = in.Get();
    if (c < 0 || c == '\n') break;
    line += static_cast<char>(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

}  // namespace emporium::catalog
