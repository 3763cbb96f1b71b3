// Lexer and parser of the Jinja chat-template language into an AST, following
// @huggingface/jinja (our reference): its preprocessing (trailing newline dropped,
// lstrip_blocks and trim_blocks on, {% generation %} tags removed), its tokens and its
// operator precedence. Limits: template size and nesting depth. Errors name the line
// and column of the original template.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3::text::jinja {

enum class Tok {
  kText,
  kNumber,
  kString,
  kIdent,
  kEquals,
  kOpenParen,
  kCloseParen,
  kOpenStmt,
  kCloseStmt,
  kOpenExpr,
  kCloseExpr,
  kOpenSquare,
  kCloseSquare,
  kOpenCurly,
  kCloseCurly,
  kComma,
  kDot,
  kColon,
  kPipe,
  kAdditive,
  kMultiplicative,
  kPower,
  kComparison,
  kUnary,
  kComment
};

struct Token {
  Tok type;
  std::string value;
  size_t pos = 0;  // byte offset in the original template
};

enum class NodeType {
  // statements
  kText,
  kIf,
  kFor,
  kSet,
  kMacro,
  kCallBlock,
  kFilterBlock,
  kBreak,
  kContinue,
  kComment,
  // expressions
  kInt,
  kFloat,
  kStr,
  kIdent,
  kArray,
  kTuple,
  kObject,
  kMember,
  kCall,
  kUnary,
  kBinary,
  kFilter,
  kTest,
  kSelect,
  kTernary,
  kSlice,
  kKwArg,
  kSpread,
  kKwSpread
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

// One node; which fields are used depends on the type:
//  kText/kStr: text. kInt/kFloat: num. kIdent: text (name). kArray/kTuple: a (items).
//  kObject: a (keys), b (values). kMember: x (object), y (property), flag (computed).
//  kCall: x (callee), a (args). kUnary: text (op), x. kBinary: text (op), x, y.
//  kFilter: x (operand), y (filter: kIdent or kCall). kTest: x, text (test), flag (negate).
//  kSelect: x (value), y (test). kTernary: x (cond), y (true), z (false).
//  kSlice: x, y, z (start, stop, step; null = absent). kKwArg: text (key), x.
//  kSpread/kKwSpread: x. kIf: x (test), a (body), b (else). kFor: x (loop target),
//  y (iterable), z (inline filter or null), a (body), b (else). kSet: x (target),
//  y (value or null), a (block body). kMacro: text (name), c (params), a (body).
//  kCallBlock: x (the call expression), c (caller params), a (body).
//  kFilterBlock: y (filter), a (body).
struct Node {
  NodeType type;
  size_t pos = 0;
  std::string text;
  double num = 0;
  bool flag = false;
  NodePtr x, y, z;
  std::vector<NodePtr> a, b, c;
};

struct ParseLimits {
  size_t max_template_bytes = 1 << 20;
  size_t max_depth = 128;  // nesting of blocks and expressions
};

struct Program {
  std::string source;  // the original template
  std::vector<NodePtr> body;
};

// Throws TemplateError ("chat template line L col C: ...").
std::vector<Token> tokenize(std::string_view source, const ParseLimits& limits = {});
std::unique_ptr<Program> parse_template(std::string_view source, const ParseLimits& limits = {});

// "line L col C" of a byte offset.
std::string position_text(std::string_view source, size_t pos);

}  // namespace qwen3::text::jinja
