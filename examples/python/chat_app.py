#!/usr/bin/env python3
# A chat app written the way the origin app (Gradio + OpenVINO GenAI on an NPU) is written,
# minus Gradio: an LLMPipeline built from a device config, start_chat()/finish_chat(), and
# generate(message, config, streamer) on a worker thread while a StreamerBase subclass
# with a queue hands decoded text to the UI loop, then a perf printout. The only change
# from the OpenVINO GenAI version is the import line.
#
#   python3 chat_app.py MODEL [--device CPU] [--max-new-tokens 256] < questions.txt
import argparse
import queue
import sys
import threading

import qwen3_runtime as ov_genai  # was: import openvino_genai as ov_genai


class IterableStreamer(ov_genai.StreamerBase):
    """Decodes tokens as they come and queues printable text for the UI thread."""

    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer = tokenizer
        self.text_queue = queue.Queue()
        self.tokens_cache = []
        self.print_len = 0

    def __iter__(self):
        return self

    def __next__(self):
        value = self.text_queue.get()
        if value is None:
            raise StopIteration
        return value

    def put(self, token_id) -> bool:
        self.tokens_cache.append(token_id)
        text = self.tokenizer.decode(self.tokens_cache)
        # Hold back an incomplete UTF-8 character (the replacement mark) until it is whole.
        if not text.endswith("\ufffd") and len(text) > self.print_len:
            self.text_queue.put(text[self.print_len:])
            self.print_len = len(text)
        return False  # False: go on generating

    def end(self):
        text = self.tokenizer.decode(self.tokens_cache)
        if len(text) > self.print_len:
            self.text_queue.put(text[self.print_len:])
        self.tokens_cache = []
        self.print_len = 0
        self.text_queue.put(None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--device", default="CPU")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    args = ap.parse_args()

    # The origin app passes its NPU settings here (e.g. MAX_PROMPT_LEN); on the CPU the
    # runtime's own properties apply.
    config = {"n_ctx": 2048} if args.device == "CPU" else {}
    pipe = ov_genai.LLMPipeline(args.model, args.device, **config)
    gen_config = pipe.get_generation_config()
    gen_config.max_new_tokens = args.max_new_tokens

    pipe.start_chat()
    all_metrics = None
    for line in sys.stdin:
        message = line.strip()
        if not message:
            continue
        streamer = IterableStreamer(pipe.get_tokenizer())
        results = {}

        def work():
            results["r"] = pipe.generate(message, gen_config, streamer)

        worker = threading.Thread(target=work)
        worker.start()
        print("assistant: ", end="", flush=True)
        for piece in streamer:
            print(piece, end="", flush=True)
        worker.join()
        print()
        metrics = results["r"].perf_metrics
        all_metrics = metrics if all_metrics is None else all_metrics + metrics
        print(f"[{metrics.get_num_generated_tokens()} tokens, "
              f"ttft {metrics.get_ttft().mean:.1f} ms, "
              f"{metrics.get_throughput().mean:.1f} tok/s]", flush=True)
    pipe.finish_chat()
    if all_metrics is not None:
        print(f"session: load {all_metrics.get_load_time():.0f} ms, "
              f"{all_metrics.get_num_generated_tokens()} tokens generated")


if __name__ == "__main__":
    main()
