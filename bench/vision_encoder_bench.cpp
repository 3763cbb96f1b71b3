// Qwen3-VL vision encoder speed: one 448x448 image (196 merged tokens) through
// preprocessing and the encoder, at 1 and 2 threads. QWEN3_MMPROJ=FILE picks the mmproj
// (e.g. the 2B shape from `qwen3 gen-model --preset 1.7b --layers 1 --mmproj FILE -o
// text.gguf`); without it a tiny random one is written to /tmp. The llama.cpp side:
// `build/bench/llamacpp_mtmd TEXT MMPROJ out.f32 --image img.png --threads 2 --bench 5`;
// bench/compare_vision_encoder.sh runs both side by side.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include "convert/mmproj_generator.h"
#include "kernels/thread_pool.h"
#include "vision/vision_encoder.h"

namespace {

using namespace qwen3;

const vision::VisionEncoder& encoder() {
  static const std::unique_ptr<vision::VisionEncoder> enc = [] {
    const char* path = std::getenv("QWEN3_MMPROJ");
    std::string p = path ? path : "/tmp/qwen3_vision_bench_tiny.gguf";
    if (!path) {
      vision::MmprojOptions o;
      o.config = vision::VisionConfig::preset("tiny");
      vision::generate_random_mmproj(o, p);
    }
    return vision::VisionEncoder::load(p);
  }();
  return *enc;
}

vision::RgbImage test_image(int w, int h) {
  vision::RgbImage img;
  img.width = w, img.height = h, img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i)
    img.rgb[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  return img;
}

void BM_Encode448(benchmark::State& state) {
  const auto& enc = encoder();
  ThreadPool pool(static_cast<int>(state.range(0)));
  const vision::RgbImage img = test_image(448, 448);
  for (auto _ : state) benchmark::DoNotOptimize(enc.encode(img, pool).data.data());
  state.counters["tokens"] = 196;
}
BENCHMARK(BM_Encode448)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The encoder call alone on preprocessed pixels (what llama.cpp's mtmd_encode_chunk
// times: its preprocessing runs in mtmd_tokenize), with the process CPU time of all
// threads per encode as the counter cpu_ms (bench/compare_vision_encoder.sh).
void BM_EncodePixels448(benchmark::State& state) {
  const auto& enc = encoder();
  ThreadPool pool(static_cast<int>(state.range(0)));
  const vision::PixelTensor px = vision::preprocess_image(test_image(448, 448), enc.config());
  double cpu = 0;
  for (auto _ : state) {
    const double c0 = process_cpu_ms();
    benchmark::DoNotOptimize(enc.encode(px, pool).data.data());
    cpu += process_cpu_ms() - c0;
  }
  state.counters["cpu_ms"] = cpu / static_cast<double>(state.iterations());
  state.counters["tokens"] = 196;
}
BENCHMARK(BM_EncodePixels448)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
