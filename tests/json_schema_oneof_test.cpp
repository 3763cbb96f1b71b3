// oneOf exclusivity (text/json_schema_oneof): over 80 generated oneOf schemas whose branches
// often overlap (integer / number ranges, shared enum values, string lengths, objects with
// and without a discriminator, ...), every schema either compiles or is refused with an
// error naming two branches; values sampled from the compiled grammar (random walks of the
// matcher) must validate with ajv (tests/js/validate_json.mjs, draft 2020-12), which checks
// that exactly one branch matches.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdlib>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "engine/grammar_matcher.h"
#include "grammar_test_util.h"
#include "text/grammar.h"
#include "text/json_schema.h"

namespace qwen3 {
namespace {

using Json = nlohmann::ordered_json;

int pick(std::mt19937& rng, int n) {
  return std::uniform_int_distribution<int>(0, n - 1)(rng);
}

// A random value the grammar accepts (printable ASCII walk), or "" if none came in time.
std::string sample(const std::shared_ptr<const text::CompiledGrammar>& g, std::mt19937& rng) {
  engine::GrammarMatcher m(g);
  std::string out;
  std::vector<char> bytes;
  for (char c = 0x20; c < 0x7F; ++c) bytes.push_back(c);
  while (out.size() < 120) {
    if (m.accepting() && (m.finished() || pick(rng, 3) == 0)) return out;
    std::shuffle(bytes.begin(), bytes.end(), rng);
    bool moved = false;
    for (char c : bytes)
      if (m.advance(std::string_view(&c, 1))) {
        out += c;
        moved = true;
        break;
      }
    if (!moved) return m.accepting() ? out : "";
  }
  return "";
}

const Json kPool = Json::parse(R"([1, 2, 2.5, "a", "b", "", null, true, false, 0, -3])");

Json branch(std::mt19937& rng) {
  switch (pick(rng, 13)) {
    case 0: {
      const int a = pick(rng, 20) - 10;
      return {{"type", "integer"}, {"minimum", a}, {"maximum", a + pick(rng, 20)}};
    }
    case 1: {
      const int a = pick(rng, 20) - 10;
      return {{"type", "number"}, {"minimum", a}, {"maximum", a + 1 + pick(rng, 20)}};
    }
    case 2:
      return {{"type", pick(rng, 2) ? "number" : "integer"}};
    case 3: {
      Json e = Json::array();
      for (const auto& v : kPool)
        if (pick(rng, 3) == 0) e.push_back(v);
      if (e.empty()) e.push_back(kPool[static_cast<size_t>(pick(rng, 11))]);
      return {{"enum", e}};
    }
    case 4:
      return {{"const", kPool[static_cast<size_t>(pick(rng, 11))]}};
    case 5:
      return {{"type", "string"}, {"maxLength", 1 + pick(rng, 6)}};
    case 6:
      return {{"type", "string"}, {"minLength", pick(rng, 5)}, {"maxLength", 5 + pick(rng, 4)}};
    case 7: {
      Json o = {{"type", "object"},
                {"properties",
                 {{"kind", {{"const", std::string(1, static_cast<char>('a' + pick(rng, 3)))}}},
                  {"v", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}}}},
                {"required", {"kind", "v"}}};
      if (pick(rng, 2)) o["additionalProperties"] = false;
      return o;
    }
    case 8: {
      Json o = {{"type", "object"},
                {"properties", {{"v", {{"type", "string"}, {"maxLength", 3}}}}},
                {"required", {"v"}}};
      if (pick(rng, 2)) o["additionalProperties"] = false;
      return o;
    }
    case 9:
      return {{"type", pick(rng, 2) ? "boolean" : "null"}};
    case 10:
      return {{"type", "array"},
              {"items", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}},
              {"minItems", pick(rng, 3)},
              {"maxItems", 2 + pick(rng, 3)}};
    case 11:
      return {{"type", {"string", "null"}}, {"maxLength", 4}};
    default:
      return {{"$ref", "#/$defs/small"}};
  }
}

Json schema(std::mt19937& rng) {
  Json alts = Json::array();
  for (int i = pick(rng, 2) + 2; i > 0; --i) alts.push_back(branch(rng));
  Json s = {{"oneOf", alts}};
  if (pick(rng, 3) == 0)
    s = {{"type", "object"},
         {"properties", {{"x", s}}},
         {"required", {"x"}},
         {"additionalProperties", false}};
  s["$defs"] = {{"small", {{"type", "integer"}, {"minimum", 0}, {"maximum", 5}}}};
  return s;
}

int run_ajv(const Json& cases) {
  return test::run_ajv(cases, "json_schema_oneof_cases.json");
}

std::shared_ptr<const text::CompiledGrammar> compile(const Json& s) {
  return std::make_shared<text::CompiledGrammar>(text::compile_gbnf(text::json_schema_to_gbnf(s)));
}

TEST(JsonSchemaOneOf, GeneratedOverlappingSchemasCompileExactOrAreRefused) {
  std::mt19937 rng(20261206);
  Json cases = Json::array();
  int compiled = 0, refused = 0;
  for (int k = 0; k < 80; ++k) {
    const Json s = schema(rng);
    std::shared_ptr<const text::CompiledGrammar> g;
    try {
      g = compile(s);
    } catch (const text::GrammarError& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("oneOf") != std::string::npos ||
                  what.find("between the minimum and the maximum") != std::string::npos)
          << what << "\n"
          << s.dump();
      ++refused;
      continue;
    }
    ++compiled;
    for (int i = 0; i < 5; ++i) {
      const std::string v = sample(g, rng);
      if (!v.empty())
        cases.push_back({{"name", "schema " + std::to_string(k)}, {"schema", s}, {"text", v}});
    }
  }
  std::printf("oneOf: %d schemas compiled, %d refused, %zu sampled values\n", compiled, refused,
              cases.size());
  EXPECT_GE(compiled, 30);
  EXPECT_GE(cases.size(), 150u);
  EXPECT_EQ(run_ajv(cases), 0);
}

TEST(JsonSchemaOneOf, NarrowsWhereExactAndNamesTheBranchesElse) {
  std::mt19937 rng(7);
  // The integers match both branches: only non-integers are written.
  auto g = compile(Json::parse(R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})"));
  for (int i = 0; i < 50; ++i) {
    const std::string v = sample(g, rng);
    if (v.empty()) continue;
    const double d = Json::parse(v).get<double>();
    EXPECT_NE(d, std::floor(d)) << v;
  }
  // Shared enum values are never written.
  g = compile(Json::parse(R"({"oneOf": [{"enum": [1, 2]}, {"enum": [2, 3]}]})"));
  for (int i = 0; i < 30; ++i) {
    const std::string v = sample(g, rng);
    EXPECT_TRUE(v == "1" || v == "3") << v;
  }
  // A discriminator makes object branches exclusive.
  EXPECT_NO_THROW(compile(Json::parse(R"({"oneOf": [
    {"type": "object", "properties": {"kind": {"const": "a"}, "n": {"type": "integer"}}, "required": ["kind"]},
    {"type": "object", "properties": {"kind": {"const": "b"}, "s": {"type": "string"}}, "required": ["kind"]}]})")));
  // Overlap that cannot be ruled out: a clear error naming the branches.
  try {
    compile(Json::parse(R"({"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}]})"));
    ADD_FAILURE() << "no error";
  } catch (const text::GrammarError& e) {
    EXPECT_NE(std::string(e.what()).find("oneOf branches 0 and 1 may both match"),
              std::string::npos)
        << e.what();
  }
  // anyOf is unchanged.
  EXPECT_NO_THROW(compile(Json::parse(R"({"anyOf": [{"type": "string"}, {"type": "string"}]})")));
}

}  // namespace
}  // namespace qwen3
