/* qwen3.h: the C API of qwen3-runtime, for bindings and programs that are not C++.
 *
 * Why: a C++ API cannot cross compilers, standard libraries or languages; this header
 * can. Only opaque handles, plain C types and function pointers cross it, so the ABI
 * stays stable while the C++ side changes (tests/capi_abi_test.cpp checks the exported
 * symbol list against tests/golden/capi_symbols.txt). The C++ API (qwen3/pipeline.h) stays
 * the primary one; this is a thin layer over it.
 *
 *   qwen3_pipeline* p = NULL;
 *   if (qwen3_pipeline_create("model.gguf", "CPU", NULL, NULL, 0, &p) != QWEN3_OK)
 *     fprintf(stderr, "%s\n", qwen3_last_error());
 *   qwen3_result* r = NULL;
 *   qwen3_generate(p, "Hi!", NULL, NULL, print_text, NULL, &r);
 *   printf("%s\n", qwen3_result_text(r));
 *   qwen3_result_destroy(r);
 *   qwen3_pipeline_destroy(p);
 *
 * Errors: functions return a qwen3_status; on failure qwen3_last_error() gives the
 * message (per thread, valid until the next call on that thread). Strings passed in are
 * UTF-8 and NUL-terminated unless a length is given; strings returned by a handle's
 * getter live as long as that handle. Handles are not thread-safe: use one from one
 * thread at a time (different handles may be used from different threads).
 */
#ifndef QWEN3_QWEN3_H
#define QWEN3_QWEN3_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define QWEN3_API __declspec(dllexport)
#else
#define QWEN3_API __attribute__((visibility("default")))
#endif

/* The version of this header's API. A program built against version N runs on a library
 * whose qwen3_api_version() is N or higher (functions are only ever added). */
#define QWEN3_API_VERSION 1

typedef enum qwen3_status {
  QWEN3_OK = 0,
  QWEN3_ERR_INVALID_ARGUMENT = 1, /* a bad value, path, property or config field */
  QWEN3_ERR_RUNTIME = 2,          /* load or generation failed (message says why) */
  QWEN3_ERR_OUT_OF_MEMORY = 3,
  QWEN3_ERR_BUFFER_TOO_SMALL = 4, /* the size needed was written to the size argument */
  QWEN3_ERR_INTERNAL = 5
} qwen3_status;

/* Which part of a reply a piece of streamed text belongs to. */
typedef enum qwen3_part {
  QWEN3_PART_CONTENT = 0,   /* the visible answer */
  QWEN3_PART_REASONING = 1, /* text inside <think>...</think>, without the tags */
  QWEN3_PART_TOOL_CALL = 2  /* one complete tool call as JSON {"id","name","arguments"} */
} qwen3_part;

/* Numbers a result can report (qwen3_result_metric). */
typedef enum qwen3_metric {
  QWEN3_METRIC_PROMPT_TOKENS = 0,    /* tokens of the whole prompt */
  QWEN3_METRIC_CACHED_TOKENS = 1,    /* of which reused from the KV cache */
  QWEN3_METRIC_GENERATED_TOKENS = 2, /* tokens generated */
  QWEN3_METRIC_TTFT_MS = 3,          /* call start to first generated token */
  QWEN3_METRIC_TPOT_MS = 4,          /* mean time per output token after the first */
  QWEN3_METRIC_THROUGHPUT_TPS = 5,   /* generated tokens per second (decode) */
  QWEN3_METRIC_PREFILL_TPS = 6,      /* prompt tokens per second */
  QWEN3_METRIC_GENERATE_MS = 7,      /* the whole call */
  QWEN3_METRIC_LOAD_TIME_MS = 8,     /* model load (the pipeline's construction) */
  QWEN3_METRIC_DROPPED_TURNS = 9     /* oldest turns left out to fit the context */
} qwen3_metric;

typedef struct qwen3_pipeline qwen3_pipeline;     /* a loaded model + one conversation */
typedef struct qwen3_gen_config qwen3_gen_config; /* options of one generate call */
typedef struct qwen3_result qwen3_result;         /* what one generate call produced */

/* Called with each generated token id before its text; return nonzero to stop. */
typedef int (*qwen3_token_fn)(void* user_data, int32_t token);
/* Called with each piece of text (whole UTF-8 characters, never special tokens); return
 * nonzero to stop. `text` is not NUL-terminated: use `length`. */
typedef int (*qwen3_text_fn)(void* user_data, qwen3_part part, const char* text, size_t length);

/* ---- library ---- */
QWEN3_API const char* qwen3_version(void); /* "0.1.0" */
QWEN3_API int qwen3_api_version(void);     /* QWEN3_API_VERSION of the library */
QWEN3_API const char* qwen3_last_error(void);
QWEN3_API const char* qwen3_status_string(qwen3_status status);
/* Frees a string the library allocated for the caller (qwen3_pipeline_decode, ...). */
QWEN3_API void qwen3_free(char* text);

/* ---- pipeline ----
 * model_path: a GGUF file or a Hugging Face folder. device: "CPU", "NPU", "GPU" or "AUTO"
 * (NULL = "CPU"). Properties as key/value strings (n_ctx, n_threads, kv_type, quantize,
 * ...; see qwen3/pipeline.h), n_properties pairs (keys/values may be NULL when 0). */
QWEN3_API qwen3_status qwen3_pipeline_create(const char* model_path, const char* device,
                                             const char* const* property_keys,
                                             const char* const* property_values,
                                             size_t n_properties, qwen3_pipeline** out);
QWEN3_API void qwen3_pipeline_destroy(qwen3_pipeline* pipeline);

/* Chat session: generate() appends the user message and the reply to the history. */
QWEN3_API qwen3_status qwen3_pipeline_start_chat(qwen3_pipeline* pipeline,
                                                 const char* system_message);
QWEN3_API qwen3_status qwen3_pipeline_finish_chat(qwen3_pipeline* pipeline);

/* Text -> token ids. Writes at most `capacity` ids and sets *n_ids to the count; if
 * capacity is too small returns QWEN3_ERR_BUFFER_TOO_SMALL with *n_ids = the count needed.
 * special != 0: special-token text (<|im_end|>, ...) becomes its id. */
QWEN3_API qwen3_status qwen3_pipeline_encode(const qwen3_pipeline* pipeline, const char* text,
                                             size_t text_length, int special, int32_t* ids,
                                             size_t capacity, size_t* n_ids);
/* Token ids -> text (*text is NUL-terminated, free it with qwen3_free). */
QWEN3_API qwen3_status qwen3_pipeline_decode(const qwen3_pipeline* pipeline, const int32_t* ids,
                                             size_t n_ids, char** text);

/* One user message (in a chat: the next turn). config may be NULL (defaults); on_token,
 * on_text may be NULL. *out receives the result (destroy it with qwen3_result_destroy),
 * also when a callback stopped the generation (finish reason "cancelled"). */
QWEN3_API qwen3_status qwen3_generate(qwen3_pipeline* pipeline, const char* prompt,
                                      const qwen3_gen_config* config, qwen3_token_fn on_token,
                                      qwen3_text_fn on_text, void* user_data, qwen3_result** out);

/* ---- generation config (unset sampling fields take the model's defaults) ---- */
QWEN3_API qwen3_gen_config* qwen3_gen_config_create(void); /* NULL only without memory */
QWEN3_API void qwen3_gen_config_destroy(qwen3_gen_config* config);
QWEN3_API void qwen3_gen_config_set_max_new_tokens(qwen3_gen_config* config, size_t n);
QWEN3_API void qwen3_gen_config_set_temperature(qwen3_gen_config* config, float t);
QWEN3_API void qwen3_gen_config_set_top_k(qwen3_gen_config* config, int k);
QWEN3_API void qwen3_gen_config_set_top_p(qwen3_gen_config* config, float p);
QWEN3_API void qwen3_gen_config_set_min_p(qwen3_gen_config* config, float p);
QWEN3_API void qwen3_gen_config_set_repetition_penalty(qwen3_gen_config* config, float v);
QWEN3_API void qwen3_gen_config_set_presence_penalty(qwen3_gen_config* config, float v);
QWEN3_API void qwen3_gen_config_set_frequency_penalty(qwen3_gen_config* config, float v);
QWEN3_API void qwen3_gen_config_set_seed(qwen3_gen_config* config, uint64_t seed);
/* enable: 1 on, 0 off, -1 the model's default. */
QWEN3_API void qwen3_gen_config_set_thinking(qwen3_gen_config* config, int enable);
QWEN3_API void qwen3_gen_config_set_thinking_budget(qwen3_gen_config* config, size_t tokens);
QWEN3_API void qwen3_gen_config_add_stop(qwen3_gen_config* config, const char* stop);
QWEN3_API void qwen3_gen_config_set_apply_chat_template(qwen3_gen_config* config, int apply);
QWEN3_API void qwen3_gen_config_set_ignore_eos(qwen3_gen_config* config, int ignore);
/* Constrained output: the content matches this JSON Schema / regular expression / GBNF
 * grammar (the last one set wins; NULL clears). */
QWEN3_API void qwen3_gen_config_set_json_schema(qwen3_gen_config* config, const char* schema);
QWEN3_API void qwen3_gen_config_set_regex(qwen3_gen_config* config, const char* regex);
QWEN3_API void qwen3_gen_config_set_grammar(qwen3_gen_config* config, const char* gbnf);
/* Checks the config as generate would; QWEN3_ERR_INVALID_ARGUMENT names the bad field. */
QWEN3_API qwen3_status qwen3_gen_config_validate(const qwen3_gen_config* config);

/* ---- result ---- */
QWEN3_API void qwen3_result_destroy(qwen3_result* result);
QWEN3_API const char* qwen3_result_text(const qwen3_result* result);
QWEN3_API const char* qwen3_result_reasoning(const qwen3_result* result);
/* "stop", "length", "tool_calls" or "cancelled" */
QWEN3_API const char* qwen3_result_finish_reason(const qwen3_result* result);
QWEN3_API size_t qwen3_result_tool_call_count(const qwen3_result* result);
/* NULL if index is out of range. */
QWEN3_API const char* qwen3_result_tool_call_name(const qwen3_result* result, size_t index);
QWEN3_API const char* qwen3_result_tool_call_arguments(const qwen3_result* result, size_t index);
QWEN3_API const char* qwen3_result_tool_call_id(const qwen3_result* result, size_t index);
/* The generated token ids (count = QWEN3_METRIC_GENERATED_TOKENS). */
QWEN3_API const int32_t* qwen3_result_tokens(const qwen3_result* result, size_t* n_tokens);
QWEN3_API double qwen3_result_metric(const qwen3_result* result, qwen3_metric metric);

/* ---- continuous batching: many requests on one model loaded once ----
 * max_num_seqs requests are decoded together (0 = 4); the rest wait first come, first
 * served. A batch and its requests may be used from different threads. */
typedef struct qwen3_batch qwen3_batch;     /* the shared model and its scheduler */
typedef struct qwen3_request qwen3_request; /* one queued or running request */

QWEN3_API qwen3_status qwen3_batch_create(const char* model_path, const char* device,
                                          const char* const* property_keys,
                                          const char* const* property_values, size_t n_properties,
                                          size_t max_num_seqs, qwen3_batch** out);
/* Cancels what is queued and waits for running requests. Requests outlive it only as
 * handles: their read/wait calls then report the cancellation. */
QWEN3_API void qwen3_batch_destroy(qwen3_batch* batch);
/* Queues one user message (or a raw prompt with apply_chat_template 0). */
QWEN3_API qwen3_status qwen3_batch_add(qwen3_batch* batch, const char* prompt,
                                       const qwen3_gen_config* config, qwen3_request** out);
/* Waits up to timeout_ms for output and passes what arrived since the last read to
 * on_text (may be NULL). *finished is set to 1 once the request ended and all was read. */
QWEN3_API qwen3_status qwen3_request_read(qwen3_request* request, int timeout_ms,
                                          qwen3_text_fn on_text, void* user_data, int* finished);
/* Waits for the end; *out receives the whole result (or the request's error). */
QWEN3_API qwen3_status qwen3_request_wait(qwen3_request* request, qwen3_result** out);
QWEN3_API void qwen3_request_cancel(qwen3_request* request);
QWEN3_API void qwen3_request_destroy(qwen3_request* request);

#ifdef __cplusplus
}
#endif

#endif /* QWEN3_QWEN3_H */
