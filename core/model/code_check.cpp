#include "core/model/code_check.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool IsOperatorChar(char c) {
  return absl::string_view("+-*/%@&|^~<>!=").find(c) != absl::string_view::npos;
}

bool IsOperatorWord(absl::string_view w) {
  return w == "and" || w == "or" || w == "not" || w == "if" || w == "else" || w == "in" ||
         w == "is" || w == "lambda";
}

/// One indentation level: its width and how many `elif`s the current chain at it has.
struct Block {
  size_t width = 0;
  uint32_t elifs = 0;
};

class Scanner {
 public:
  Scanner(absl::string_view text, const CodeLimits& limits) : t_(text), limits_(limits) {}
  absl::Status Run();

 private:
  absl::Status Fail(absl::string_view what) const {
    return Error(ErrorClass::kModel, absl::StrCat("line ", line_, ": ", what));
  }
  absl::Status LineStart();
  absl::Status Token();
  absl::Status Open();
  void Close();
  absl::Status Operator(uint32_t count);
  void SkipString();
  void SkipNumber();
  absl::string_view Word();

  absl::string_view t_;
  const CodeLimits& limits_;
  size_t pos_ = 0;
  size_t line_ = 1;
  std::vector<uint32_t> levels_{0};  ///< operators chained at each open bracket level
  uint64_t weight_ = 0;              ///< open brackets + the sum of levels_
  std::vector<Block> blocks_{Block{}};
  uint64_t block_weight_ = 1;  ///< blocks_.size() + the sum of their elifs
};

/// At the start of a logical line: tracks indentation and elif chains.
absl::Status Scanner::LineStart() {
  size_t width = 0;
  while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t')) {
    width = t_[pos_] == '\t' ? (width / 8 + 1) * 8 : width + 1;
    ++pos_;
  }
  if (pos_ >= t_.size() || t_[pos_] == '\n' || t_[pos_] == '#' || t_[pos_] == '\r') {
    return absl::OkStatus();  // blank or comment line: no indentation
  }
  if (width > blocks_.back().width) {
    blocks_.push_back(Block{width, 0});
    ++block_weight_;
  }
  while (blocks_.size() > 1 && width < blocks_.back().width) {
    block_weight_ -= 1 + blocks_.back().elifs;
    blocks_.pop_back();
  }
  size_t end = pos_;
  while (end < t_.size() && IsWordChar(t_[end])) ++end;
  const absl::string_view first = t_.substr(pos_, end - pos_);
  Block& block = blocks_.back();
  if (first == "elif") {
    ++block.elifs;
    ++block_weight_;
  } else if (first != "else") {
    block_weight_ -= block.elifs;
    block.elifs = 0;
  }
  if (block_weight_ > limits_.max_block_depth) {
    return Fail(
        absl::StrCat("blocks and elif chains nest more than ", limits_.max_block_depth, " deep"));
  }
  return absl::OkStatus();
}

absl::Status Scanner::Open() {
  levels_.push_back(0);
  ++weight_;
  if (weight_ > limits_.max_expression_depth) {
    return Fail(absl::StrCat("brackets and chained operators nest more than ",
                             limits_.max_expression_depth, " deep"));
  }
  return absl::OkStatus();
}

void Scanner::Close() {
  if (levels_.size() == 1) return;  // unbalanced: LibTorch's parser reports it
  weight_ -= 1 + levels_.back();
  levels_.pop_back();
}

absl::Status Scanner::Operator(uint32_t count) {
  levels_.back() += count;
  weight_ += count;
  if (weight_ > limits_.max_expression_depth) {
    return Fail(absl::StrCat("brackets and chained operators nest more than ",
                             limits_.max_expression_depth, " deep"));
  }
  return absl::OkStatus();
}

void Scanner::SkipString() {
  const char q = t_[pos_];
  const bool triple = t_.substr(pos_, 3) == std::string(3, q);
  pos_ += triple ? 3 : 1;
  while (pos_ < t_.size()) {
    const char c = t_[pos_];
    if (c == '\\') {
      if (pos_ + 1 < t_.size() && t_[pos_ + 1] == '\n') ++line_;
      pos_ += 2;
      continue;
    }
    if (c == '\n') {
      if (!triple) return;  // an unterminated string: LibTorch's lexer reports it
      ++line_;
    }
    if (c == q && (!triple || t_.substr(pos_, 3) == std::string(3, q))) {
      pos_ += triple ? 3 : 1;
      return;
    }
    ++pos_;
  }
}

void Scanner::SkipNumber() {
  while (pos_ < t_.size()) {
    const char c = t_[pos_];
    if ((c == 'e' || c == 'E') && pos_ + 1 < t_.size() &&
        (t_[pos_ + 1] == '+' || t_[pos_ + 1] == '-')) {
      pos_ += 2;
    } else if (IsWordChar(c) || c == '.') {
      ++pos_;
    } else {
      return;
    }
  }
}

absl::string_view Scanner::Word() {
  const size_t start = pos_;
  while (pos_ < t_.size() && IsWordChar(t_[pos_])) ++pos_;
  return t_.substr(start, pos_ - start);
}

/// One token (or a newline, comment, string or continuation) at pos_.
absl::Status Scanner::Token() {
  const char c = t_[pos_];
  if (c == '\n' || c == ';') {
    if (c == '\n') ++line_;
    ++pos_;
    if (levels_.size() > 1) return absl::OkStatus();  // inside brackets: the statement goes on
    weight_ = 0;
    levels_[0] = 0;
    return c == '\n' ? LineStart() : absl::OkStatus();
  }
  if (c == '#') {
    while (pos_ < t_.size() && t_[pos_] != '\n') ++pos_;
    return absl::OkStatus();
  }
  if (c == '\\' && pos_ + 1 < t_.size() && t_[pos_ + 1] == '\n') {
    pos_ += 2;
    ++line_;
    return absl::OkStatus();
  }
  if (c == '"' || c == '\'') {
    SkipString();
    return absl::OkStatus();
  }
  if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
    SkipNumber();
    return absl::OkStatus();
  }
  if (IsWordChar(c)) return IsOperatorWord(Word()) ? Operator(1) : absl::OkStatus();
  ++pos_;
  if (c == '(' || c == '[' || c == '{') return Open();
  if (c == ')' || c == ']' || c == '}') {
    Close();
  } else if (c == ',') {
    weight_ -= levels_.back();
    levels_.back() = 0;
  } else if (IsOperatorChar(c)) {
    // One operator, plus one for each unary sign after its first character ("**-", "---").
    uint32_t count = 1;
    for (; pos_ < t_.size() && IsOperatorChar(t_[pos_]); ++pos_) {
      if (t_[pos_] == '-' || t_[pos_] == '+' || t_[pos_] == '~') ++count;
    }
    return Operator(count);
  }
  return absl::OkStatus();
}

absl::Status Scanner::Run() {
  absl::Status s = LineStart();
  while (s.ok() && pos_ < t_.size()) s = Token();
  return s;
}

}  // namespace

absl::Status CheckTorchScriptCode(absl::string_view code, const CodeLimits& limits) {
  return Scanner(code, limits).Run();
}

}  // namespace ts2coreml::core
