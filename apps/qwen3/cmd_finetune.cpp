// `qwen3 finetune`: trains a LoRA adapter on the CPU, without Python. Chat JSONL (OpenAI
// messages) through the model's template, loss on the assistant's tokens only, forward
// and backward through the frozen (possibly quantized) base (src/train), AdamW with
// gradient accumulation, a checkpoint every --save-every steps (--resume continues it),
// and the adapter written as a Hugging Face PEFT folder (adapter_config.json +
// adapter_model.safetensors) that `--lora` and PEFT load.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>

#include "command.h"
#include "convert/lora_writer.h"
#include "model/qwen3_model.h"
#include "text/tokenizer.h"
#include "train/adamw.h"
#include "train/chat_dataset.h"
#include "train/lora_train_step.h"
#include "train/train_checkpoint.h"

namespace qwen3::cli {
namespace {

struct FinetuneArgs {
  std::string model, data, out, targets = "q,k,v,o", resume;
  int rank = 16;
  float alpha = 32;
  int epochs = 1;
  int64_t max_steps = 0;
  float lr = 1e-4f, weight_decay = 0.01f, max_grad_norm = 1.0f;
  int grad_accum = 1;
  int max_len = 512;
  uint64_t seed = 1;
  int save_every = 50;
  int threads = 0;
  bool thinking = false;
};

// The order of the sequences in epoch `e`: a shuffle that depends only on (seed, e), so a
// resumed run sees the same order.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t e) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(e));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

void write_adapter(const train::LoraParams& p, const FinetuneArgs& a, const Qwen3Config& c) {
  LoraWriteOptions wo;
  wo.arch = c.arch;
  wo.base_model = a.model;
  write_peft_adapter(*p.to_adapter(a.out), a.out, wo);
}

int run_finetune(const FinetuneArgs& a) {
  using Clock = std::chrono::steady_clock;
  ModelLoadOptions lo;
  lo.n_threads = a.threads;
  auto model = Qwen3Model::load(a.model, lo);
  const Qwen3Config& c = model->config();
  train::ChatDataOptions dopt;
  dopt.enable_thinking = a.thinking;
  dopt.max_len = a.max_len;
  const train::ChatDataset data = train::load_chat_jsonl(a.data, model->tokenizer(), dopt);
  std::fprintf(stderr,
               "finetune: %zu conversations (%d skipped), %lld tokens, %lld trained tokens\n",
               data.sequences.size(), data.n_skipped, static_cast<long long>(data.n_tokens),
               static_cast<long long>(data.n_target_tokens));
  train::TrainProgress pr;
  train::LoraParams params =
      a.resume.empty()
          ? train::LoraParams::init(c, a.rank, a.alpha, parse_lora_targets(a.targets), a.seed)
          : train::load_checkpoint(a.resume, c, &pr);
  ::mkdir(a.out.c_str(), 0755);
  ThreadPool pool(a.threads > 0 ? a.threads : model->default_threads());
  const auto t_setup = Clock::now();
  train::LoraTrainStep step(model, pool);
  std::fprintf(stderr,
               "finetune: %lld trainable parameters (%zu matrices pairs), %d threads, "
               "transposed base %.0f MiB in %.1f s%s\n",
               static_cast<long long>(params.n_parameters()), params.params().size(), pool.size(),
               step.transposed_bytes() / 1048576.0,
               std::chrono::duration<double>(Clock::now() - t_setup).count(),
               a.resume.empty() ? "" : (", resumed at step " + std::to_string(pr.step)).c_str());
  train::AdamWOptions opt;
  opt.lr = a.lr;
  opt.weight_decay = a.weight_decay;
  opt.max_grad_norm = a.max_grad_norm;
  const int64_t N = static_cast<int64_t>(data.sequences.size());
  const int64_t total_seqs = N * a.epochs;
  const int64_t steps_total = (total_seqs + a.grad_accum - 1) / a.grad_accum;
  const int64_t steps_end = a.max_steps > 0 ? std::min(steps_total, a.max_steps) : steps_total;
  const std::string ckpt = a.out + "/checkpoint.bin";
  auto run_start = Clock::now();
  int64_t tokens_done = 0;
  int64_t order_epoch = -1;
  std::vector<size_t> order;
  while (pr.step < steps_end && pr.sequences < total_seqs) {
    // The next batch: up to grad_accum sequences.
    std::vector<const train::TrainSequence*> batch;
    int64_t n_targets = 0;
    for (int64_t s = pr.sequences; s < total_seqs && static_cast<int>(batch.size()) < a.grad_accum;
         ++s) {
      if (s / N != order_epoch) {
        order_epoch = s / N;
        order = epoch_order(static_cast<size_t>(N), a.seed, order_epoch);
      }
      batch.push_back(&data.sequences[order[static_cast<size_t>(s % N)]]);
      n_targets += batch.back()->n_targets();
    }
    params.zero_grad();
    double loss = 0;
    int64_t toks = 0;
    for (const auto* seq : batch) {
      loss += step.run(*seq, &params, 1.0f / static_cast<float>(n_targets)).loss_sum;
      toks += static_cast<int64_t>(seq->ids.size());
    }
    const double gnorm = train::adamw_step(params, opt, pr.step + 1);
    ++pr.step;
    pr.sequences += static_cast<int64_t>(batch.size());
    tokens_done += toks;
    const double secs = std::chrono::duration<double>(Clock::now() - run_start).count();
    std::fprintf(stderr, "step %lld/%lld  epoch %.2f  loss %.4f  grad-norm %.3f  %.1f tokens/s\n",
                 static_cast<long long>(pr.step), static_cast<long long>(steps_end),
                 static_cast<double>(pr.sequences) / N, loss / std::max<int64_t>(n_targets, 1),
                 gnorm, tokens_done / std::max(secs, 1e-9));
    if (a.save_every > 0 && pr.step % a.save_every == 0 && pr.step < steps_end) {
      train::save_checkpoint(ckpt, params, pr);
      write_adapter(params, a, c);
    }
  }
  train::save_checkpoint(ckpt, params, pr);
  write_adapter(params, a, c);
  std::fprintf(stderr, "finetune: wrote %s (PEFT adapter; checkpoint %s)\n", a.out.c_str(),
               ckpt.c_str());
  return kExitOk;
}

Registrar reg(
    {"finetune", "Train a LoRA adapter on chat JSONL (CPU; writes a PEFT folder)",
     [](CLI::App& app) {
       auto a = std::make_shared<FinetuneArgs>();
       app.add_option("-m,--model", a->model, "Base model (GGUF file or Hugging Face folder)")
           ->required();
       app.add_option("--data", a->data,
                      "JSONL, one {\"messages\": [...]} conversation (OpenAI format) per line")
           ->required();
       app.add_option("-o,--output", a->out, "Output PEFT folder (and its checkpoint.bin)")
           ->required();
       app.add_option("--rank", a->rank, "LoRA rank r (default 16)")->check(CLI::Range(1, 4096));
       app.add_option("--alpha", a->alpha, "lora_alpha: scale alpha / r (default 32)");
       app.add_option("--targets", a->targets,
                      "Comma-separated projections: q,k,v,o,gate,up,down or all (default q,k,v,o)");
       app.add_option("--epochs", a->epochs, "Passes over the data (default 1)")
           ->check(CLI::Range(1, 1000000));
       app.add_option("--max-steps", a->max_steps, "Stop after this many optimizer steps (0 = all)")
           ->check(CLI::NonNegativeNumber);
       app.add_option("--lr", a->lr, "AdamW learning rate (default 1e-4)")
           ->check(CLI::PositiveNumber);
       app.add_option("--weight-decay", a->weight_decay,
                      "AdamW decoupled weight decay (default 0.01)")
           ->check(CLI::NonNegativeNumber);
       app.add_option("--max-grad-norm", a->max_grad_norm,
                      "Clip the gradient norm to this (default 1; 0 = no clipping)")
           ->check(CLI::NonNegativeNumber);
       app.add_option("--batch,--grad-accum", a->grad_accum,
                      "Conversations per optimizer step: gradient accumulation (default 1)")
           ->check(CLI::Range(1, 1000000));
       app.add_option("--max-len", a->max_len,
                      "Cut conversations to this many tokens (default 512)")
           ->check(CLI::Range(2, 1 << 20));
       app.add_option("--seed", a->seed,
                      "Seed of the initial A matrices and the data order (default 1)");
       app.add_option("--save-every", a->save_every,
                      "Write the checkpoint and the adapter every N steps (default 50; 0 = only at "
                      "the end)")
           ->check(CLI::NonNegativeNumber);
       app.add_option("--resume", a->resume,
                      "Continue from a checkpoint.bin (matrices, AdamW state, position)");
       app.add_flag("--thinking", a->thinking,
                    "Render the chats with thinking on (default off, as run/chat/serve)");
       app.add_option("-t,--threads", a->threads, "Threads (0 = physical cores)")
           ->check(CLI::NonNegativeNumber);
       return [a]() -> int { return run_finetune(*a); };
     }});

}  // namespace
}  // namespace qwen3::cli
