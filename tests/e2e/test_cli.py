"""The `qwen-lsp` command line: complete, doctor, --help, against the fake endpoint."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**CLEAN_ENV, **(env or {})},
    )


def endpoint_env(ep: FakeEndpoint, **extra: str) -> dict[str, str]:
    return {"QWEN_LSP_BASE_URL": f"{ep.url}/v1", "QWEN_LSP_COMPLETION_MODEL": "qwen-test", **extra}


def test_help_documents_every_subcommand():
    out = run("--help").stdout
    for word in ("complete", "doctor", "serve", "next-edit", "QWEN_LSP_BASE_URL",
                 "DASHSCOPE_API_KEY", "QWEN_LSP_NEXT_EDIT_MODEL"):
        assert word in out


def test_complete_prints_the_suggestion(endpoint: FakeEndpoint, tmp_path: Path):
    src = tmp_path / "add.py"
    src.write_text("def add(a, b):\n    return \n")
    endpoint.default = Reply(text="a + b")
    proc = run("complete", f"{src}:1:11", env=endpoint_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "a + b\n"
    assert endpoint.generation_requests()[0].body["prompt"].startswith("<|fim_prefix|>def add")


def test_complete_uses_repository_context(endpoint: FakeEndpoint, tmp_path: Path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "util.py").write_text(
        'def parse_row(line: str) -> list[str]:\n    """Split a CSV row."""\n'
        '    return line.split(",")\n'
    )
    (tmp_path / "pkg").mkdir()
    main = tmp_path / "pkg" / "main.py"
    main.write_text("from util import parse_row\n\nfields = \n")
    endpoint.default = Reply(text="parse_row(line)")
    proc = run("complete", f"{main}:2:9", env=endpoint_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    prompt = endpoint.generation_requests()[0].body["prompt"]
    assert prompt.startswith(f"<|repo_name|>{tmp_path.name}\n<|file_sep|>util.py\n")
    assert "def parse_row(line: str) -> list[str]:" in prompt
    assert "<|file_sep|>pkg/main.py\n<|fim_prefix|>from util import parse_row" in prompt


def test_complete_reports_a_broken_endpoint(tmp_path: Path):
    src = tmp_path / "a.py"
    src.write_text("x = \n")
    proc = run("complete", f"{src}:0:4", env={"QWEN_LSP_BASE_URL": "http://127.0.0.1:9/v1"})
    assert proc.returncode == 1 and "Cannot reach" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_complete_refuses_binary_and_missing_files(tmp_path: Path):
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    assert "binary" in run("complete", f"{binary}:0:0").stderr
    proc = run("complete", f"{tmp_path / 'nope.py'}:0:0")
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    assert run("complete", "no-colons").returncode == 2


def test_doctor_ready(endpoint: FakeEndpoint):
    endpoint.default = Reply(text="a + b")
    proc = run("doctor", env=endpoint_env(endpoint))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict: ready" in proc.stdout and "ms" in proc.stdout


def test_doctor_json_names_each_failure_with_a_fix(tmp_path: Path):
    with FakeEndpoint(api_key="right-key-123") as ep:
        proc = run("doctor", "--json", env=endpoint_env(ep, QWEN_LSP_API_KEY="wrong-key-456"))
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["ok"] is False
    auth = next(c for c in report["checks"] if c["name"] == "auth")
    assert not auth["ok"] and "valid key" in auth["fix"] and "API key" in auth["detail"]
    assert "wrong-key-456" not in proc.stdout + proc.stderr


def test_doctor_missing_model(endpoint: FakeEndpoint):
    proc = run("doctor", env=endpoint_env(endpoint, QWEN_LSP_COMPLETION_MODEL="not-there"))
    assert proc.returncode == 1
    assert "not-there is not among the served models" in proc.stdout


def test_doctor_unreachable_ollama_says_how_to_start_it():
    proc = run(
        "doctor", env={"QWEN_LSP_BASE_URL": "http://127.0.0.1:9", "QWEN_LSP_PROVIDER": "ollama"}
    )
    assert proc.returncode == 1 and "ollama serve" in proc.stdout


def test_next_edit_prints_prompt_and_edits(endpoint: FakeEndpoint, tmp_path: Path):
    before = tmp_path / "before.py"
    before.write_text("def area(width, height):\n    return width * height\n")
    src = tmp_path / "geo.py"
    src.write_text("def area(w, h):\n    return width * height\n")
    endpoint.default = Reply(text="<|editable_region_start|>\ndef area(w, h):\n"
                                  "    return w * h\n")
    env = endpoint_env(endpoint, QWEN_LSP_NEXT_EDIT_MODEL="zeta-7b")
    args = ("next-edit", "--root", str(tmp_path), "--file", str(src), "--line", "0",
            "--character", "13", "--before-file", str(before))
    proc = run(*args, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["format"] == "zeta"
    assert "-def area(width, height):\n+def area(w, h):" in out["prompt"]
    assert "def area(w, h<|user_cursor_is_here|>):" in out["prompt"]
    assert out["edits"] == [{"range": {"start": {"line": 1, "character": 12},
                                       "end": {"line": 1, "character": 25}}, "text": " * h"}]
    (req,) = endpoint.generation_requests()
    assert req.body["prompt"] == out["prompt"] and req.body["model"] == "zeta-7b"
    text = run(*args, env=env)
    assert text.returncode == 0 and "--- prompt (zeta" in text.stdout
    assert "1:12-1:25 -> ' * h'" in text.stdout
    only = run(*args, "--prompt-only", env=env)
    assert only.returncode == 0 and "--- edits ---" not in only.stdout
    assert len(endpoint.generation_requests()) == 2


# -- every subcommand checks its arguments the same way -------------------------------------
def five_lines(tmp_path: Path) -> Path:
    src = tmp_path / "app.py"
    src.write_text("a = 1\nb = 2\nc = 3\nd = 4\ne = 5\n")
    return src


def test_complete_refuses_positions_outside_the_file(endpoint: FakeEndpoint, tmp_path: Path):
    src = five_lines(tmp_path)
    for location, words in (
        (f"{src}:999:0", "line 999 is outside"),
        (f"{src}:-1:0", "line -1 is outside"),
        (f"{src}:0:99", "character 99 is outside line 0"),
    ):
        proc = run("complete", location, env=endpoint_env(endpoint))
        assert proc.returncode == 2, (location, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr
    assert endpoint.generation_requests() == []  # nothing was sent for a clamped position


def test_complete_says_a_secret_file_is_never_sent(endpoint: FakeEndpoint, tmp_path: Path):
    env_file = tmp_path / ".env"
    env_file.write_text("API_TOKEN=abcdef\n")
    proc = run("complete", f"{env_file}:0:6", env=endpoint_env(endpoint))
    assert proc.returncode == 3, proc.stderr
    assert "never sent" in proc.stderr and "no suggestion" not in proc.stderr
    assert endpoint.generation_requests() == []


def test_context_checks_like_complete(tmp_path: Path):
    src = five_lines(tmp_path)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x7fELF\x00\x01\x02" * 50)

    def context(root: Path | str, file: Path, line: int = 0) -> subprocess.CompletedProcess:
        return run(
            "context",
            "--root",
            str(root),
            "--file",
            str(file),
            "--line",
            str(line),
            "--character",
            "0",
        )

    proc = context("/nonexistent", src)
    assert proc.returncode == 2 and "/nonexistent is not a directory" in proc.stderr
    proc = context(tmp_path, blob)
    assert proc.returncode == 2 and "binary" in proc.stderr and proc.stdout == ""
    proc = context(tmp_path, src, line=999)
    assert proc.returncode == 2 and "line 999 is outside" in proc.stderr
    assert context(tmp_path, src, line=5).returncode == 0  # the empty line after the last \n


def test_index_and_log_level_refuse_bad_values(tmp_path: Path):
    proc = run("index", "--workers", "-3", str(tmp_path))
    assert proc.returncode == 2 and "at least 1" in proc.stderr
    proc = run("--log-level", "abc", "doctor")
    assert proc.returncode == 2 and "DEBUG, INFO" in proc.stderr
    # From the environment (an editor's, say) it is reported, and INFO used.
    proc = run("--help", env={"QWEN_LSP_LOG_LEVEL": "loud"})
    assert proc.returncode == 0
    assert (
        "QWEN_LSP_LOG_LEVEL: expected one of DEBUG" in proc.stderr and "using INFO" in proc.stderr
    )


def test_index_says_where_the_index_lives_and_how_to_delete_it(tmp_path: Path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "m.py").write_text("def f():\n    return 1\n")
    cache = tmp_path / "cache"
    proc = run("index", str(tmp_path / "repo"), env={"XDG_CACHE_HOME": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert f"stored in  {cache}/qwen-lsp/index/repo-" in proc.stdout
    assert "stays on this machine" in proc.stdout and "Delete" in proc.stdout


def test_help_documents_the_exit_codes():
    for args in (("--help",), ("context", "--help"), ("index", "--help")):
        out = run(*args).stdout
        assert "exit codes:" in out and "3  the file is secret or ignored" in out


def test_serving_in_a_terminal_says_so_and_stops_on_ctrl_c():
    import os
    import pty
    import select
    import signal
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "lsp_server"], CLEAN_ENV)
    try:
        output = b""
        deadline = time.monotonic() + 30
        while b"--help" not in output and time.monotonic() < deadline:
            if not select.select([fd], [], [], 0.2)[0]:
                continue
            try:
                output += os.read(fd, 1024)
            except OSError:
                break
        assert b"qwen-lsp: serving LSP on stdio; editors start this for you" in output
        # The server sets its SIGINT handler before the banner: once it shows, Ctrl-C works.
        os.kill(pid, signal.SIGINT)
        # Generous on a loaded machine; what it says on the way out is read meanwhile, so
        # that a full terminal never holds it up.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if select.select([fd], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    output += os.read(fd, 4096)
        else:
            raise AssertionError("qwen-lsp ignored Ctrl-C")
        with contextlib.suppress(OSError):
            output += os.read(fd, 4096)
        assert os.waitstatus_to_exitcode(status) == 130
        assert b"Traceback" not in output
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_ctrl_c_while_starting_stops_it_even_when_the_shell_ignored_sigint():
    """A shell without job control starts a background job (`pytest &` in a script) with
    SIGINT ignored, and the server inherits that: a Ctrl-C that came before the server set
    its own handler was dropped, and the server served on. Here the terminal's output is
    stopped, so the server blocks at its first write there (the banner): the handler must
    already be set by then, and a Ctrl-C while it is starting must end it."""
    import os
    import signal
    import termios
    import time

    master, terminal = os.openpty()
    termios.tcflow(terminal, termios.TCOOFF)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited across fork and exec
    try:
        proc = subprocess.Popen([sys.executable, "-m", "lsp_server"], stdin=terminal,
                                stdout=terminal, stderr=terminal, env=CLEAN_ENV,
                                start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        # Start-up takes well under a second unloaded; the deadline is for a loaded machine.
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
        assert proc.returncode == 130, "qwen-lsp ignored Ctrl-C while starting"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        termios.tcflow(terminal, termios.TCOON)
        os.close(terminal)
        os.close(master)


def test_doctor_names_where_a_bad_base_url_came_from():
    for url in ("htp://x", "localhost:8000/v1"):
        proc = run("doctor", env={"QWEN_LSP_BASE_URL": url})
        assert proc.returncode == 1
        assert f"environment variable QWEN_LSP_BASE_URL: {url!r} is not a URL" in proc.stdout
        assert "ollama" not in proc.stdout.lower() and "11434" not in proc.stdout


def llamacpp_env(ep: FakeEndpoint, **extra: str) -> dict[str, str]:
    """A llama-server: its own routes, no model configured (it serves one)."""
    return {"QWEN_LSP_BASE_URL": ep.url, "QWEN_LSP_PROVIDER": "llamacpp", **extra}


def test_complete_json_names_the_model_the_server_serves(endpoint: FakeEndpoint,
                                                         tmp_path: Path):
    src = tmp_path / "add.py"
    src.write_text("def add(a, b):\n    return \n")
    endpoint.default = Reply(text="a + b")
    proc = run("complete", "--json", f"{src}:1:11", env=llamacpp_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["completion"] == "a + b" and out["model"] == "qwen2.5-coder:1.5b-base"


def test_complete_fits_the_prompt_under_the_servers_context(endpoint: FakeEndpoint,
                                                            tmp_path: Path):
    endpoint.n_ctx = 1024  # llama-server -c 1024: /props and /v1/models say so
    src = tmp_path / "big.py"
    src.write_text("".join(f"value_{i} = compute({i}, 'x' * {i})\n" for i in range(400)))
    endpoint.default = Reply(text="1")
    proc = run("complete", f"{src}:200:0", env=llamacpp_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    prompt = endpoint.generation_requests()[0].body["prompt"]
    # 3.2 characters a token (the estimate): the prompt and the answer fit in 1024 tokens.
    assert len(prompt) / 3.2 + 128 <= 1024


def test_prompt_tokens_can_be_set_from_the_environment(endpoint: FakeEndpoint, tmp_path: Path):
    src = tmp_path / "big.py"
    src.write_text("".join(f"value_{i} = compute({i})\n" for i in range(400)))
    endpoint.default = Reply(text="1")
    proc = run("complete", f"{src}:200:0",
               env=endpoint_env(endpoint, QWEN_LSP_PROMPT_TOKENS="300"))
    assert proc.returncode == 0, proc.stderr
    assert len(endpoint.generation_requests()[0].body["prompt"]) <= 300 * 3.2


def test_doctor_reports_the_context_size_and_a_model_without_qwen_fim_tokens(
        endpoint: FakeEndpoint):
    endpoint.n_ctx = 1024
    endpoint.chars_per_token = 2.5
    # Characters like the rest: <|fim_prefix|> is 6 tokens, as with Gemma 3 on llama.cpp.
    endpoint.default = Reply(text="a + b")
    proc = run("doctor", env=llamacpp_env(endpoint))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[ok] context: 1024 tokens" in proc.stdout
    assert "[warn] fim-tokens: this model does not know Qwen's FIM tokens; completions " \
           "will be poor: use a Qwen2.5-Coder base or Qwen3-Coder model" in proc.stdout
    assert "verdict: ready" not in proc.stdout and "warning" in proc.stdout
    # A Qwen model's tokenizer reads each FIM token as one: ready.
    endpoint.knows_qwen_tokens = True
    proc = run("doctor", env=llamacpp_env(endpoint))
    assert "[ok] fim-tokens" in proc.stdout and "verdict: ready" in proc.stdout


def test_doctor_reports_ollamas_context_window_and_where_it_comes_from(
        endpoint: FakeEndpoint):
    env = {"QWEN_LSP_BASE_URL": endpoint.url, "QWEN_LSP_PROVIDER": "ollama",
           "QWEN_LSP_COMPLETION_MODEL": "qwen-test"}
    endpoint.default = Reply(text="a + b")
    proc = run("doctor", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[ok] context: 4096 tokens (from Ollama's default: no num_ctx in the Modelfile " \
           "(raise it with PARAMETER num_ctx, or OLLAMA_CONTEXT_LENGTH on the server))" \
           in proc.stdout
    # Ollama cannot count tokens: Qwen's tokenizer, installed with qwen-lsp, does.
    assert "[ok] token-counts: the endpoint cannot count tokens: Qwen's own tokenizer " \
           "counts them here" in proc.stdout
    endpoint.ollama_parameters = "num_ctx 16384"
    assert "[ok] context: 16384 tokens (from api/show, num_ctx in the Modelfile)" \
           in run("doctor", env=env).stdout
    endpoint.ollama_loaded_context = 32768  # OLLAMA_CONTEXT_LENGTH, seen once loaded
    endpoint.models = ["qwen-test"]
    assert "[ok] context: 32768 tokens (from api/ps, the loaded model)" \
           in run("doctor", env=env).stdout
