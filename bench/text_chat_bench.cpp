// Throughput of the chat template renderers (native Qwen3, and the Jinja interpreter on
// the same official template and on Qwen3-Coder's) and the text-level stream parser.
// Run: build/text_chat_bench --benchmark_filter=Render
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "text/chat_template.h"
#include "text/jinja_template.h"
#include "text/stream_parser.h"

namespace {

using ojson = nlohmann::ordered_json;

// A 40-message agent conversation with two tools: what a server renders per request.
ojson bench_conversation() {
  ojson msgs = ojson::array();
  msgs.push_back({{"role", "system"}, {"content", "You are a helpful assistant."}});
  for (int i = 0; i < 13; ++i) {
    msgs.push_back(
        {{"role", "user"}, {"content", "What is the weather in city " + std::to_string(i) + "?"}});
    msgs.push_back(
        {{"role", "assistant"},
         {"content", ""},
         {"reasoning_content", "I should call the weather tool for this city."},
         {"tool_calls", ojson::parse(R"([{"type":"function","function":{"name":"get_weather",)"
                                     R"("arguments":{"city":"Paris","unit":"celsius"}}}])")}});
    msgs.push_back({{"role", "tool"}, {"content", "{\"temperature\": 21, \"sky\": \"clear\"}"}});
  }
  return msgs;
}

const ojson& bench_tools() {
  static const ojson tools = ojson::parse(R"([
    {"type":"function","function":{"name":"get_weather","description":"Current weather",
     "parameters":{"type":"object","properties":{"city":{"type":"string"},
     "unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}},
    {"type":"function","function":{"name":"search","description":"Web search",
     "parameters":{"type":"object","properties":{"query":{"type":"string"}}}}}])");
  return tools;
}

void BM_RenderChat(benchmark::State& state) {
  const auto messages = qwen3::text::messages_from_json(bench_conversation());
  const ojson& tools = bench_tools();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string p = qwen3::text::render_chat(messages, tools, {});
    bytes += p.size();
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_RenderChat);

// The same conversation through ChatTemplate with a Jinja template: the official Qwen3
// text forced through the interpreter (a trailing space keeps it off the native path;
// it only adds one byte of output), and the Qwen3-Coder template.
void render_jinja(benchmark::State& state, const std::string& source) {
  const qwen3::text::ChatTemplate t(source);
  const auto messages = qwen3::text::messages_from_json(bench_conversation());
  const ojson& tools = bench_tools();
  size_t bytes = 0;
  for (auto _ : state) {
    auto p = t.render(messages, tools, {});
    bytes += p.text.size();
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_RenderChatJinjaOfficial(benchmark::State& state) {
  render_jinja(state, qwen3::text::official_qwen3_template() + " ");
}
BENCHMARK(BM_RenderChatJinjaOfficial);

void BM_RenderChatJinjaCoder(benchmark::State& state) {
  std::ifstream f(std::string(QWEN3_TOOLS_DIR) + "/../tests/golden/templates/qwen3-coder.jinja");
  std::ostringstream s;
  s << f.rdbuf();
  render_jinja(state, s.str());
}
BENCHMARK(BM_RenderChatJinjaCoder);

// Output fed in 4-byte pieces (about a token each): reasoning, content, tool calls.
void BM_StreamParserText(benchmark::State& state) {
  std::string out = "<think>\nLet me think about this step by step.\n</think>\n\n";
  while (out.size() < 64 * 1024) {
    out += "Here is some answer text with unicode é 日本 and a <b>tag</b>.\n";
    out += "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call>\n";
  }
  for (auto _ : state) {
    qwen3::text::OutputParser p;
    std::vector<qwen3::text::StreamEvent> ev;
    for (size_t i = 0; i < out.size(); i += 4) {
      p.push_text(std::string_view(out).substr(i, 4), ev);
      ev.clear();
    }
    p.finish(qwen3::text::StreamEnd::kEndToken, ev);
    benchmark::DoNotOptimize(p.message().content.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_StreamParserText);

}  // namespace

BENCHMARK_MAIN();
