# The origin app's pattern, unchanged but for its import: examples/python/chat_app.py
# (LLMPipeline, get_generation_config, start_chat, generate on a worker thread with a
# queue-backed StreamerBase subclass, finish_chat, perf metrics) runs two turns on a
# random-weight model; what it streams is exactly the tokenizer's decoding of the tokens.
import os
import pathlib
import subprocess
import sys

import qwen3_runtime as ov_genai

APP = pathlib.Path(__file__).resolve().parents[3] / "examples" / "python" / "chat_app.py"


def test_chat_app_runs_two_turns(model):
    env = dict(os.environ)
    out = subprocess.run([sys.executable, str(APP), model, "--max-new-tokens", "12"],
                         input="Hello!\nAnd again?\n", capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("assistant: ") == 2
    assert out.stdout.count(" tokens, ttft ") == 2
    assert "session: load " in out.stdout


def test_streamed_text_is_the_decoded_tokens(model):
    sys.path.insert(0, str(APP.parent))
    from chat_app import IterableStreamer

    pipe = ov_genai.LLMPipeline(model, "CPU", n_ctx=512)
    config = pipe.get_generation_config()
    config.max_new_tokens = 16
    config.rng_seed = 3
    pipe.start_chat()

    class Keeping(IterableStreamer):
        def put(self, token_id):
            self.kept = getattr(self, "kept", []) + [token_id]
            return super().put(token_id)

    streamer = Keeping(pipe.get_tokenizer())
    r = pipe.generate("Hi", config, streamer)
    pipe.finish_chat()
    streamed = "".join(streamer)
    assert streamed == pipe.get_tokenizer().decode(streamer.kept)
    assert len(streamer.kept) == r.perf_metrics.get_num_generated_tokens()
