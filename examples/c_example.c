/* The C API from a C program: load a model, stream one greedy reply, print its metrics.
 *
 *   c_example MODEL.gguf "prompt" [max_tokens=32]
 *
 * Only qwen3/qwen3.h is used; it builds with any C99 compiler against libqwen3. */
#include <stdio.h>
#include <stdlib.h>

#include "qwen3/qwen3.h"

static int print_text(void* user, qwen3_part part, const char* text, size_t length) {
  (void)user;
  if (part == QWEN3_PART_REASONING) fputs("\x1b[2m", stdout); /* reasoning dimmed */
  fwrite(text, 1, length, stdout);
  if (part == QWEN3_PART_REASONING) fputs("\x1b[0m", stdout);
  fflush(stdout);
  return 0; /* nonzero would stop the reply */
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.gguf PROMPT [max_tokens]\n", argv[0]);
    return 2;
  }
  const char* keys[] = {"n_ctx"};
  const char* values[] = {"1024"};
  qwen3_pipeline* pipe = NULL;
  if (qwen3_pipeline_create(argv[1], "CPU", keys, values, 1, &pipe) != QWEN3_OK) {
    fprintf(stderr, "error: %s\n", qwen3_last_error());
    return 1;
  }
  qwen3_gen_config* config = qwen3_gen_config_create();
  qwen3_gen_config_set_max_new_tokens(config, argc > 3 ? (size_t)atoi(argv[3]) : 32);
  qwen3_gen_config_set_temperature(config, 0.0f);

  qwen3_result* result = NULL;
  qwen3_status s = qwen3_generate(pipe, argv[2], config, NULL, print_text, NULL, &result);
  if (s != QWEN3_OK) {
    fprintf(stderr, "error: %s: %s\n", qwen3_status_string(s), qwen3_last_error());
  } else {
    printf("\n[qwen3 %s, %.0f tokens, finish %s, %.1f tok/s]\n", qwen3_version(),
           qwen3_result_metric(result, QWEN3_METRIC_GENERATED_TOKENS),
           qwen3_result_finish_reason(result),
           qwen3_result_metric(result, QWEN3_METRIC_THROUGHPUT_TPS));
    qwen3_result_destroy(result);
  }
  qwen3_gen_config_destroy(config);
  qwen3_pipeline_destroy(pipe);
  return s == QWEN3_OK ? 0 : 1;
}
