# The qwen3_runtime module against independent references: greedy replies equal the
# `qwen3 run` command's output on the same model; the tokenizer equals `qwen3 tokenize`;
# streamers (put / write / callables / our on_content) see every token and can stop the
# reply; bad input raises Python exceptions carrying the runtime's message; several Python
# threads can generate at once (the GIL is released while the model runs).
import json
import subprocess
import threading

import jsonschema
import pytest

import qwen3_runtime as q


def cli_reply(qwen3_bin, model, prompt, n):
    out = subprocess.run([qwen3_bin, "run", "-m", model, "-p", prompt, "--temp", "0", "-n",
                          str(n), "--hide-thinking", "-c", "512"],
                         check=True, capture_output=True, text=True)
    return out.stdout


def as_printed(text):
    return text if text.endswith("\n") else text + "\n"


@pytest.fixture(scope="module")
def pipe(model):
    return q.LLMPipeline(model, "CPU", n_ctx=512)


def test_greedy_reply_equals_the_cli(pipe, model, qwen3_bin):
    config = q.GenerationConfig()
    config.max_new_tokens = 12
    assert config.is_greedy_decoding()  # a new config is greedy, as in OpenVINO GenAI
    r = pipe.generate("Name three colours.", config)
    assert isinstance(r, q.DecodedResults)
    assert as_printed(r.texts[0]) == cli_reply(qwen3_bin, model, "Name three colours.", 12)
    assert str(r) == r.texts[0]
    assert r.perf_metrics.get_num_generated_tokens() == 12
    assert r.perf_metrics.get_ttft().mean > 0
    assert r.perf_metrics.get_load_time() > 0
    assert r.finish_reasons == ["length"]


def test_kwargs_and_list_inputs(pipe):
    r = pipe.generate(["One", "Two"], max_new_tokens=3, do_sample=False)
    assert len(r.texts) == 2
    assert r.perf_metrics.get_num_generated_tokens() == 6
    with pytest.raises(ValueError, match="unknown generation option 'no_such'"):
        pipe.generate("x", no_such=1)


def test_tokenizer_equals_the_cli(pipe, qwen3_bin, model):
    text = "Hello, world! <|im_end|>"
    out = subprocess.run([qwen3_bin, "tokenize", "-m", model, "--text", text], check=True,
                         capture_output=True, text=True).stdout
    want = json.loads(out)
    tok = pipe.get_tokenizer()
    ids = tok.encode(text).input_ids[0]
    assert ids == want  # special-token text is parsed, as Hugging Face tokenizers do
    assert tok.encode(text, add_special_tokens=False).input_ids[0] == want  # no BOS in Qwen3
    assert tok.encode(text).attention_mask[0] == [1] * len(want)
    assert tok.decode(ids) == text
    assert tok.decode([ids, ids]) == [text, text]
    with pytest.raises(ValueError):
        tok.decode([-1])


class Recorder(q.StreamerBase):
    def __init__(self, stop_after=None):
        super().__init__()
        self.tokens = []
        self.ended = False
        self.stop_after = stop_after

    def put(self, token_id):
        self.tokens.append(token_id)
        return self.stop_after is not None and len(self.tokens) >= self.stop_after

    def end(self):
        self.ended = True


def test_put_streamer_sees_every_token_and_can_stop(pipe):
    rec = Recorder()
    r = pipe.generate("Hi", q.GenerationConfig(max_new_tokens=8, ignore_eos=True), rec)
    assert len(rec.tokens) == 8 and rec.ended
    assert pipe.get_tokenizer().decode(rec.tokens) != "" or r.texts[0] == ""
    stopper = Recorder(stop_after=3)
    r = pipe.generate("Hi", q.GenerationConfig(max_new_tokens=30, ignore_eos=True), stopper)
    assert len(stopper.tokens) == 3
    assert r.finish_reasons == ["cancelled"]


def test_write_streamer_and_streaming_status(pipe):
    class Writer(q.StreamerBase):
        def __init__(self):
            super().__init__()
            self.n = 0

        def write(self, token):
            self.n += 1
            return q.StreamingStatus.STOP if self.n == 4 else q.StreamingStatus.RUNNING

    w = Writer()
    r = pipe.generate("Hi", q.GenerationConfig(max_new_tokens=30, ignore_eos=True), w)
    assert w.n == 4 and r.finish_reasons == ["cancelled"]


def test_callable_streamer_gets_all_visible_text(pipe):
    pieces = []
    r = pipe.generate("Hi", q.GenerationConfig(max_new_tokens=10), lambda s: pieces.append(s))
    assert "".join(pieces) == r.reasoning[0] + r.texts[0]
    with pytest.raises(TypeError):
        pipe.generate("Hi", q.GenerationConfig(max_new_tokens=2), 42)


def test_streamer_exception_propagates(pipe):
    class Boom(q.StreamerBase):
        def put(self, token):
            raise KeyError("from the streamer")

    with pytest.raises(KeyError, match="from the streamer"):
        pipe.generate("Hi", q.GenerationConfig(max_new_tokens=5), Boom())


def test_errors_are_exceptions_with_messages(model):
    with pytest.raises(RuntimeError, match="no/such"):
        q.LLMPipeline("/no/such/model.gguf")
    with pytest.raises(ValueError, match="unknown property 'bogus'"):
        q.LLMPipeline(model, "CPU", bogus=1)
    with pytest.raises(ValueError, match="unknown device"):
        q.LLMPipeline(model, "TPU")
    p = q.LLMPipeline(model, "CPU", n_ctx=256)
    c = q.GenerationConfig(do_sample=True, top_p=1.5)
    with pytest.raises(ValueError, match="top_p"):
        p.generate("x", c)


def test_chat_session_and_seeded_sampling(model):
    p = q.LLMPipeline(model, "CPU", config={"n_ctx": 512})
    cfg = p.get_generation_config()
    assert cfg.do_sample  # the model's (Qwen3 model card) defaults
    cfg.max_new_tokens = 6
    cfg.rng_seed = 7
    a = p.generate("Hi", cfg).texts[0]
    b = p.generate("Hi", cfg).texts[0]
    assert a == b
    p.start_chat("Be brief.")
    first = p.generate("One", cfg)
    second = p.generate("Two", cfg)
    assert second.perf_metrics.get_num_input_tokens() > first.perf_metrics.get_num_input_tokens()
    p.finish_chat()


def test_threads_generate_at_once(model):
    pipes = [q.LLMPipeline(model, "CPU", n_ctx=256, n_threads=1) for _ in range(2)]
    results = [None, None]

    def work(i):
        results[i] = pipes[i].generate("Hi", q.GenerationConfig(max_new_tokens=8)).texts[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1]  # same model, greedy


def test_structured_output_json_schema(pipe):
    # Every reply must validate against the schema (checked by the jsonschema package, not
    # by our own compiler), greedy and sampled, over several prompts; the schema is small
    # enough that each reply finishes well inside the token budget.
    schema = {"type": "object",
              "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 999},
                             "ok": {"type": "boolean"},
                             "tag": {"enum": ["a", "b", "c"]}},
              "required": ["n", "ok", "tag"], "additionalProperties": False}
    prompts = ["Give n.", "Count to three.", "Is it ok?", "Pick a tag."]
    for i, prompt in enumerate(prompts):
        cfg = q.GenerationConfig(max_new_tokens=160, json_schema=json.dumps(schema),
                                 enable_thinking=False)
        if i % 2:
            cfg.do_sample, cfg.temperature, cfg.rng_seed = True, 1.0, 100 + i
        r = pipe.generate(prompt, cfg)
        assert r.finish_reasons[0] == "stop", (prompt, r.texts[0])
        jsonschema.validate(json.loads(r.texts[0]), schema)


def test_pipeline_info(pipe):
    # The PipelineInfo fields of the C++ Pipeline (tier, failed_tiers, handoff,
    # max_prompt_tokens): a CPU pipeline is served by the native engine on the CPU tier.
    info = pipe.get_info()
    assert (info.backend, info.device, info.tier) == ("native", "CPU", "CPU")
    assert info.n_ctx == 512 and info.kv_reuse
    assert info.failed_tiers == [] and info.handoff == "never" and info.max_prompt_tokens == 0


def test_pipeline_info_auto_records_failed_tiers(model):
    # --device AUTO without OpenVINO: the NPU and GPU tiers fail with a reason, as
    # `qwen3 devices --json` and the server's /v1/models report them, then the CPU serves.
    info = q.LLMPipeline(model, "AUTO", n_ctx=256).get_info()
    assert info.tier == "CPU"
    assert {t.tier.split()[0] for t in info.failed_tiers} == {"NPU", "GPU"}
    assert all(t.reason for t in info.failed_tiers)


def cli_json(qwen3_bin, *args):
    out = subprocess.run([qwen3_bin, "device-config", *args], capture_output=True, text=True)
    return out.returncode, out.stdout, out.stderr


def test_device_config_equals_the_cli(qwen3_bin, model):
    # The builder from Python gives the same property map as `qwen3 device-config`.
    cases = [("NPU", "balanced", {"model_preset": "8b"}, ["--model-preset", "8b"]),
             ("NPU", "conservative", {"model": model}, ["-m", model]),
             ("GPU", "aggressive", {}, []),
             ("CPU", "balanced", {"threads": 4}, ["--threads", "4"]),
             ("NPU", "balanced", {"model_preset": "4b", "quant": "int4-asym",
                                  "overrides": {"MAX_PROMPT_LEN": 1024}},
              ["--model-preset", "4b", "--quant", "int4-asym",
               "--set", "MAX_PROMPT_LEN=1024"])]
    for device, profile, kw, args in cases:
        got = q.device_config(device=device, profile=profile, **kw)
        rc, out, _ = cli_json(qwen3_bin, "--device", device, "--profile", profile, *args)
        assert got["properties"] == json.loads(out), (device, profile, kw)
        assert (got["errors"] > 0) == (rc == 1)
    with pytest.raises(ValueError, match="unknown device"):
        q.device_config(device="TPU")
    with pytest.raises(ValueError, match="unknown profile"):
        q.device_config(profile="fast")
    with pytest.raises(Exception, match="unknown model preset"):
        q.device_config(model_preset="7b")


def test_validate_device_config_equals_the_cli(qwen3_bin, tmp_path):
    # The validator from Python finds what `qwen3 device-config --validate --json` finds, for
    # a dict and for a file; a typo gets its "did you mean".
    good = q.device_config(device="NPU", profile="balanced", model_preset="1.7b")["properties"]
    bad = dict(good)
    bad["MAX_PROMT_LEN"] = 1024
    bad["MIN_RESPONSE_LEN"] = "many"
    for props in (good, bad):
        path = tmp_path / "props.json"
        path.write_text(json.dumps(props))
        rc, out, _ = cli_json(qwen3_bin, "--device", "NPU", "--model-preset", "1.7b",
                              "--validate", str(path), "--json")
        want = json.loads(out)["findings"]
        got = q.validate_device_config(props, device="NPU", model_preset="1.7b")
        assert got == want
        assert q.validate_device_config(str(path), device="NPU", model_preset="1.7b") == want
        assert any(f["severity"] == "error" for f in got) == (rc == 1)
    assert any("MAX_PROMPT_LEN" in f["fix"] + f["message"]
               for f in q.validate_device_config(bad, device="NPU"))
