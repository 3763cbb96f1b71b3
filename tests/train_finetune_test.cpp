// `qwen3 finetune`'s data and command: the assistant tokens of a chat rendered through the
// model's template are exactly the ones marked for the loss (single and multi-turn, a
// system message, thinking on and off), the prompt before each trained reply is what the
// engine would send, bad JSONL is a clear error naming the line, and the command (the
// binary) trains a tiny random model, lowers the loss, writes a PEFT folder that loads,
// and a run stopped and resumed from its checkpoint ends with the same adapter as one run.
// The same on a tiny random mixture-of-experts base (adapters on q, k, v, o), whose
// adapter `qwen3 run --lora` and `qwen3 logits --lora` then load; expert targets are a
// clear error there.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model/lora_adapter.h"
#include "model/qwen3_config.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "train/chat_dataset.h"

namespace qwen3::train {
namespace {

const Tokenizer& tok() {
  static const Tokenizer t =
      Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json");
  return t;
}

text::ChatMessage msg(const std::string& role, const std::string& content) {
  text::ChatMessage m;
  m.role = role;
  m.content = content;
  return m;
}

// The marked tokens, decoded; and the ids before the first marked token of each span.
std::vector<std::string> marked_spans(const TrainSequence& s) {
  std::vector<std::string> out;
  std::vector<int32_t> cur;
  for (size_t i = 0; i <= s.ids.size(); ++i) {
    if (i < s.ids.size() && s.target[i]) {
      cur.push_back(s.ids[i]);
    } else if (!cur.empty()) {
      out.push_back(tok().decode(cur));
      cur.clear();
    }
  }
  return out;
}

std::vector<int32_t> engine_prompt(const std::vector<text::ChatMessage>& msgs, bool thinking) {
  text::TemplateOptions o;
  o.add_generation_prompt = true;
  o.enable_thinking = thinking;
  const auto r = text::ChatTemplate::for_source(tok().chat_template())->render(msgs, {}, o);
  return tok().encode_with_literals(r.text, r.literal);
}

TEST(FinetuneData, SingleTurnMarksTheReplyAndEndOfTurn) {
  const std::vector<text::ChatMessage> msgs = {msg("user", "Capital of France?"),
                                               msg("assistant", "Paris.")};
  const TrainSequence s = tokenize_chat(msgs, {}, tok(), {});
  EXPECT_EQ(marked_spans(s), std::vector<std::string>{"Paris.<|im_end|>"});
  // The unmarked head is the engine's prompt (thinking off: the empty think block).
  const std::vector<int32_t> prompt = engine_prompt({msgs[0]}, false);
  ASSERT_LT(prompt.size(), s.ids.size());
  EXPECT_EQ(std::vector<int32_t>(s.ids.begin(), s.ids.begin() + prompt.size()), prompt);
  EXPECT_EQ(s.target[prompt.size()], 1);
  EXPECT_EQ(s.target[prompt.size() - 1], 0);
  EXPECT_EQ(s.n_targets(), 3);  // "Paris", ".", <|im_end|>
}

TEST(FinetuneData, MultiTurnWithSystemMarksEveryAssistantTurn) {
  const std::vector<text::ChatMessage> msgs = {msg("system", "Be brief."), msg("user", "2+2?"),
                                               msg("assistant", "4"), msg("user", "And 3+3?"),
                                               msg("assistant", "6, of course.")};
  const TrainSequence s = tokenize_chat(msgs, {}, tok(), {});
  EXPECT_EQ(marked_spans(s), (std::vector<std::string>{"4<|im_end|>", "6, of course.<|im_end|>"}));
  // Every token is the template's render, tokenized as the engine tokenizes it.
  text::TemplateOptions o;
  o.add_generation_prompt = false;
  o.enable_thinking = false;
  const auto r = text::ChatTemplate::for_source(tok().chat_template())->render(msgs, {}, o);
  EXPECT_EQ(tok().decode(s.ids), r.text);
  // The last reply follows exactly the prompt the engine sends for the last user turn.
  const std::vector<int32_t> prompt = engine_prompt({msgs.begin(), msgs.begin() + 4}, false);
  EXPECT_EQ(std::vector<int32_t>(s.ids.begin(), s.ids.begin() + prompt.size()), prompt);
  EXPECT_EQ(s.target[prompt.size()], 1);
}

TEST(FinetuneData, ThinkingOnTrainsTheReasoning) {
  std::vector<text::ChatMessage> msgs = {msg("user", "Hi"), msg("assistant", "Hello!")};
  msgs[1].reasoning_content = "Greet back.";
  ChatDataOptions o;
  o.enable_thinking = true;
  const TrainSequence s = tokenize_chat(msgs, {}, tok(), o);
  EXPECT_EQ(marked_spans(s),
            std::vector<std::string>{"<think>\nGreet back.\n</think>\n\nHello!<|im_end|>"});
  const std::vector<int32_t> prompt = engine_prompt({msgs[0]}, true);
  EXPECT_EQ(std::vector<int32_t>(s.ids.begin(), s.ids.begin() + prompt.size()), prompt);
}

TEST(FinetuneData, MaxLenCutsAndBadDataIsAClearError) {
  const std::vector<text::ChatMessage> msgs = {msg("user", "Hi"), msg("assistant", "Hello")};
  ChatDataOptions o;
  o.max_len = 5;
  EXPECT_EQ(tokenize_chat(msgs, {}, tok(), o).ids.size(), 5u);
  EXPECT_THROW(tokenize_chat({msg("user", "Hi")}, {}, tok(), {}), std::invalid_argument);
  const std::string path = std::string(QWEN3_BUILD_DIR) + "/finetune_test_bad.jsonl";
  std::ofstream(path)
      << R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]})"
      << "\n\n{\"messages\": 3}\n";
  try {
    load_chat_jsonl(path, tok(), {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("finetune_test_bad.jsonl:3:"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_chat_jsonl(path + ".missing", tok(), {}), std::runtime_error);
}

// ---- The command ----

std::string dir() {
  return std::string(QWEN3_BUILD_DIR) + "/finetune_test";
}

int run(const std::string& args, std::string* err = nullptr) {
  const std::string log = dir() + "/stderr." + std::to_string(::getpid()) + ".txt";
  const std::string cmd = std::string("'") + QWEN3_BIN + "' " + args + " 2> '" + log + "'";
  const int rc = std::system(cmd.c_str());
  if (err) {
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    *err = ss.str();
  }
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const std::string& model() {
  static const std::string p = [] {
    ::mkdir(dir().c_str(), 0755);
    // ctest runs these tests as parallel processes: each writes its own files and renames
    // them over the shared names (atomic), so no process reads a half-written file.
    const std::string m = dir() + "/tiny.gguf", d = dir() + "/data.jsonl";
    const std::string pid = "." + std::to_string(::getpid());
    EXPECT_EQ(run("gen-model --preset tiny --layers 1 --type q8_0 --seed 4 -o '" + m + pid + "'"),
              0);
    {
      std::ofstream f(d + pid);
      const char* words[] = {"apple", "river", "stone", "cloud", "maple", "tiger"};
      for (int i = 0; i < 6; ++i)
        f << R"({"messages":[{"role":"user","content":"Word )" << i
          << R"(?"},{"role":"assistant","content":")" << words[i] << "\"}]}\n";
    }
    std::rename((m + pid).c_str(), m.c_str());
    std::rename((d + pid).c_str(), d.c_str());
    return m;
  }();
  return p;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<double> losses(const std::string& log) {
  std::vector<double> v;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const size_t p = line.find("  loss ");
    if (line.rfind("step ", 0) == 0 && p != std::string::npos)
      v.push_back(std::stod(line.substr(p + 7)));
  }
  return v;
}

TEST(FinetuneCli, TrainsWritesPeftAndResumes) {
  const std::string m = model(), data = dir() + "/data.jsonl";
  const std::string common = "finetune -m '" + m + "' --data '" + data +
                             "' --targets all --rank 4 --batch 2 --epochs 4 --lr 5e-3 -t 1 ";
  std::string err;
  ASSERT_EQ(run(common + "-o '" + dir() + "/full'", &err), 0) << err;
  const std::vector<double> l = losses(err);
  ASSERT_EQ(l.size(), 12u) << err;
  EXPECT_LT((l[9] + l[10] + l[11]) / 3, (l[0] + l[1] + l[2]) / 3) << err;
  EXPECT_NE(err.find("tokens/s"), std::string::npos);
  auto a = LoraAdapter::load(dir() + "/full");
  EXPECT_EQ(a->format(), "peft");
  EXPECT_EQ(a->n_matrices(), 7);
  EXPECT_EQ(a->max_rank(), 4);
  // Stopped after 5 steps, then resumed: the same adapter, byte for byte.
  ASSERT_EQ(run(common + "--max-steps 5 -o '" + dir() + "/part'", &err), 0) << err;
  ASSERT_EQ(
      run(common + "--resume '" + dir() + "/part/checkpoint.bin' -o '" + dir() + "/part'", &err), 0)
      << err;
  EXPECT_EQ(losses(err).size(), 7u) << err;
  EXPECT_EQ(slurp(dir() + "/part/adapter_model.safetensors"),
            slurp(dir() + "/full/adapter_model.safetensors"));
}

// A tiny random MoE base (2 blocks of 8 experts, 2 chosen) beside model()'s data.
const std::string& moe_model() {
  static const std::string p = [] {
    model();  // the folder and the data
    const std::string m = dir() + "/tiny-moe.gguf", tmp = m + "." + std::to_string(::getpid());
    EXPECT_EQ(run("gen-model --preset tiny-moe --layers 2 --type q8_0 --seed 5 -o '" + tmp + "'"),
              0);
    std::rename(tmp.c_str(), m.c_str());
    return m;
  }();
  return p;
}

TEST(FinetuneCli, MoeTrainsResumesAndRuns) {
  const std::string m = moe_model(), data = dir() + "/data.jsonl", out = dir() + "/moe-full";
  const std::string common =
      "finetune -m '" + m + "' --data '" + data + "' --rank 4 --batch 2 --epochs 4 --lr 5e-3 -t 1 ";
  std::string err;
  ASSERT_EQ(run(common + "-o '" + out + "'", &err), 0) << err;
  const std::vector<double> l = losses(err);
  ASSERT_EQ(l.size(), 12u) << err;
  EXPECT_LT((l[9] + l[10] + l[11]) / 3, (l[0] + l[1] + l[2]) / 3) << err;
  auto a = LoraAdapter::load(out);
  EXPECT_EQ(a->n_matrices(), 8);  // q, k, v, o of 2 blocks
  ASSERT_EQ(run(common + "--max-steps 5 -o '" + dir() + "/moe-part'", &err), 0) << err;
  ASSERT_EQ(
      run(common + "--resume '" + dir() + "/moe-part/checkpoint.bin' -o '" + dir() + "/moe-part'",
          &err),
      0)
      << err;
  EXPECT_EQ(losses(err).size(), 7u) << err;
  EXPECT_EQ(slurp(dir() + "/moe-part/adapter_model.safetensors"),
            slurp(out + "/adapter_model.safetensors"));
  // The adapter runs on the base, and changes its logits.
  ASSERT_EQ(
      run("run -m '" + m + "' --lora '" + out + "' -p 'Word 1?' -n 4 --seed 1 > /dev/null", &err),
      0)
      << err;
  const std::string base = dir() + "/moe-base.f32", adapted = dir() + "/moe-lora.f32";
  ASSERT_EQ(run("logits -m '" + m + "' --ids 1,2,3 -o '" + base + "'", &err), 0) << err;
  ASSERT_EQ(
      run("logits -m '" + m + "' --ids 1,2,3 --lora '" + out + "' -o '" + adapted + "'", &err), 0)
      << err;
  const std::string lb = slurp(base), la = slurp(adapted);
  EXPECT_EQ(lb.size(), la.size());
  EXPECT_NE(lb, la);
}

TEST(FinetuneCli, MoeExpertTargetsAreAClearError) {
  const std::string m = moe_model();
  for (const char* targets : {"q,gate", "all"}) {
    std::string err;
    EXPECT_EQ(run("finetune -m '" + m + "' --data '" + dir() + "/data.jsonl' --targets " + targets +
                      " -o '" + dir() + "/moe-x'",
                  &err),
              2);
    EXPECT_NE(err.find("gate_proj: LoRA on the experts of a mixture-of-experts model is not "
                       "supported"),
              std::string::npos)
        << err;
  }
}

TEST(FinetuneCli, BadInputIsAClearError) {
  const std::string m = model();
  std::string err;
  EXPECT_EQ(
      run("finetune -m '" + m + "' --data '" + dir() + "/nope.jsonl' -o '" + dir() + "/x'", &err),
      2);
  EXPECT_NE(err.find("nope.jsonl: cannot open"), std::string::npos) << err;
  EXPECT_EQ(run("finetune -m '" + m + "' --data '" + dir() + "/data.jsonl' --targets q,zz -o '" +
                    dir() + "/x'",
                &err),
            2);
  EXPECT_NE(err.find("zz"), std::string::npos) << err;
  EXPECT_EQ(run("finetune -m '" + m + "' --data '" + dir() + "/data.jsonl' --resume '" + m +
                    "' -o '" + dir() + "/x'",
                &err),
            2);
  EXPECT_NE(err.find("not a usable finetune checkpoint"), std::string::npos) << err;
}

}  // namespace
}  // namespace qwen3::train
