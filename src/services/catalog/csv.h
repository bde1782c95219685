// Streaming input for the importer: a file read through zlib (gzip or plain, detected by
// content), split into RFC 4180 CSV records or into lines (JSON Lines). Memory use is bounded
// by the longest record. Single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "platform/core/status.h"

namespace emporium::catalog {

class InputFile {
 public:
  // "-" reads standard input. kNotFound when the file cannot be opened.
  static Result<std::unique_ptr<InputFile>> Open(const std::string& path);
  InputFile() = default;
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Next byte, or -1 at the end (or on a read error, see error()).
  int Get() {
    if (pos_ == len_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  int Peek() {
    if (pos_ == len_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  // Bytes of the file consumed so far (compressed bytes for gzip) and the file's size
  // (0 when unknown, e.g. a pipe): progress = consumed / size.
  int64_t consumed() const;
  int64_t size() const { return size_; }
  const std::string& error() const { return error_; }

 private:
  bool Fill();

  void* gz_ = nullptr;  // gzFile
  std::vector<char> buf_ = std::vector<char>(1 << 16);
  size_t pos_ = 0, len_ = 0;
  int64_t size_ = 0;
  std::string error_;
};

class CsvReader {
 public:
  CsvReader(InputFile& in, char delimiter) : in_(in), delimiter_(delimiter) {}
  // Reads the next record into fields (quoted fields may span lines; "" is a quote inside a
  // quoted field; CRLF and LF both end records). False at the end of the input.
  bool Next(std::vector<std::string>& fields);
  // Line number where the last record started (1-based).
  int64_t line() const { return record_line_; }

 private:
  InputFile& in_;
  char delimiter_;
  int64_t next_line_ = 1;
  int64_t record_line_ = 0;
};

// Reads one line without its terminator (LF or CRLF). False at the end of the input.
bool ReadLine(InputFile& in, std::string& line);

}  // namespace emporium::catalog
