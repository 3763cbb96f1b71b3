# Shared fixtures of the Python module's tests: a random-weight model written once per
# session by `qwen3 gen-model` (QWEN3_BIN) with the real Qwen3 tokenizer (QWEN3_TOKENIZER).
import os
import subprocess

import pytest


@pytest.fixture(scope="session")
def qwen3_bin():
    return os.environ["QWEN3_BIN"]


@pytest.fixture(scope="session")
def model(tmp_path_factory, qwen3_bin):
    path = tmp_path_factory.mktemp("model") / "tiny.gguf"
    subprocess.run([qwen3_bin, "gen-model", "--preset", "tiny", "--type", "q8_0",
                    "--tokenizer", os.environ["QWEN3_TOKENIZER"], "--seed", "4",
                    "-o", str(path)], check=True, stdout=subprocess.DEVNULL)
    return str(path)
