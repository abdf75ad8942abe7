"""A scriptable loopback model server speaking the OpenAI, Ollama and llama.cpp dialects.

Tests start it in-process (``FakeEndpoint()``) or as a program
(``python tests/fake_endpoint.py --port-file F``, which runs this module) and script its
replies per test: text, chunking, delays, status codes, raw bodies, streams cut mid-way. It
records every request and notices when a client closes a stream early. It only ever binds
127.0.0.1.
Given a server-side ``ssl.SSLContext`` (``FakeEndpoint(tls=ctx)``) it speaks HTTPS instead,
and counts the TLS handshakes that failed (``tls_failures``).

Out-of-process control (for editor tests): ``POST /_control/replies`` with
``{"replies": [Reply fields...], "default": {Reply fields}}``, ``GET /_control/requests``,
``POST /_control/reset``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """How the endpoint answers one generation request."""

    text: str = "pass"
    reasoning: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    chunk_size: int = 4
    chunks: list[str] | None = None
    cut_after: int | None = None
    finish_reason: str = "stop"
    raw_frames: list[str] | None = None
    # OpenAI-style usage chunk (when the request asks for it): prompt tokens taken from the
    # prefix cache, as vLLM with --enable-prompt-tokens-details says; None sends
    # `prompt_tokens_details: null`, as vLLM does by default.
    cached_tokens: int | None = None

    def pieces(self) -> list[str]:
        """Split the text into the chunks the stream sends."""
        if self.chunks is not None:
            return list(self.chunks)
        size = max(1, self.chunk_size)
        return [self.text[i : i + size] for i in range(0, len(self.text), size)] or [""]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        """Build a reply from its JSON form, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Recorded:
    """One request as the endpoint saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


_QWEN_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>",
                        "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
                        "<|file_sep|>")


class _Gone(Exception):
    """The client closed the connection."""


class FakeEndpoint:
    """The server and its script; use as a context manager or call close()."""

    def __init__(
        self,
        *,
        port: int = 0,
        models: tuple[str, ...] = ("qwen2.5-coder:1.5b-base", "qwen-test"),
        api_key: str | None = None,
        default: Reply | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.models = list(models)
        self.tls = tls
        self.api_key = api_key
        self.default = default or Reply()
        self.replies: deque[Reply] = deque()
        # Answers computed from the request body (after the scripted replies run out).
        self.responder: Callable[[Any], Reply | None] | None = None
        self.requests: list[Recorded] = []
        # Serve `POST /tokenize` (off unless set): this many characters make a token.
        self.chars_per_token: float | None = None
        self.max_model_len = 32768
        # Which server's tokenizer route to mimic: "vllm" counts `prompt` (and, like
        # llama.cpp, `content`); "llamacpp" reads only `content` and answers `prompt` with an
        # empty list, as the real llama-server does; "empty" answers every body so.
        self.tokenizer_flavour = "vllm"
        # True: count each Qwen special token as one token, as Qwen's tokenizer does
        # (otherwise they are characters like the rest, as for a model that is not Qwen).
        self.knows_qwen_tokens = False
        # Serve llama.cpp's `/props` (and `meta.n_ctx` in the model list) when set.
        self.n_ctx: int | None = None
        # Ollama's `POST /api/show`: the Modelfile's parameters text (add "num_ctx N" to set
        # it) and the model's trained length (`model_info` `<arch>.context_length`);
        # `GET /api/ps` lists the first model as loaded with this context when set.
        self.ollama_parameters = 'stop                           "<|endoftext|>"'
        self.ollama_context_length: int | None = 32768
        self.ollama_loaded_context: int | None = None
        self.disconnects = 0
        self.completed = 0
        self.tls_failures = 0
        self.connections = 0  # TCP connections accepted
        self._cond = threading.Condition()
        self._server = _Server(("127.0.0.1", port), self._handler_class(), tls)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # -- scripting -------------------------------------------------------------------
    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Return the server root URL (https when serving TLS)."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next generation requests, in order."""
        with self._cond:
            self.replies.extend(replies)

    def reset(self) -> None:
        """Forget the script and everything recorded."""
        with self._cond:
            self.replies.clear()
            self.requests.clear()
            self.disconnects = 0
            self.completed = 0
            self.tls_failures = 0
            self.default = Reply()
            self.responder = None

    def generation_requests(self) -> list[Recorded]:
        """Return the recorded requests that asked the model to generate."""
        with self._cond:
            return [r for r in self.requests if r.method == "POST"
                    and not r.path.endswith(("/tokenize", "/api/show"))]

    def wait_for(self, predicate: Callable[[FakeEndpoint], bool], timeout: float = 10.0) -> bool:
        """Block until predicate(self) holds or the timeout passes; return whether it held."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------
    def _record(self, rec: Recorded) -> None:
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()

    def _next_reply(self, body: Any = None) -> Reply:
        with self._cond:
            if self.replies:
                return self.replies.popleft()
            responder = self.responder
        reply = responder(body) if responder is not None else None
        return reply if reply is not None else self.default

    def _count(self, attr: str) -> None:
        with self._cond:
            setattr(self, attr, getattr(self, attr) + 1)
            self._cond.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(_Handler):
            ep = endpoint

        return Handler


class _Server(ThreadingHTTPServer):
    """The HTTP server; with a TLS context it wraps each accepted connection."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 tls: ssl.SSLContext | None) -> None:
        self.tls = tls
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # The handshake runs in the handler's thread, so a stuck client blocks nobody.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ep: FakeEndpoint

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def handle(self) -> None:
        self.ep._count("connections")
        conn = self.connection
        if isinstance(conn, ssl.SSLSocket):
            try:
                conn.settimeout(5.0)
                conn.do_handshake()
                conn.settimeout(None)
            except OSError:  # ssl.SSLError among them: the client refused our certificate
                self.close_connection = True
                self.ep._count("tls_failures")
                return
        super().handle()

    # -- routing ---------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self._dispatch(body)

    def _dispatch(self, body: Any) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.startswith("/_control/"):
            self._control(path, body)
            return
        self.ep._record(Recorded(self.command, path, dict(self.headers.items()), body))
        if self.ep.api_key is not None and not self._authorized():
            self._json(401, {"error": {"message": "Incorrect API key provided.",
                                       "type": "invalid_request_error",
                                       "code": "invalid_api_key"}})
            return
        if self.command == "GET" and path in ("/v1/models", "/models"):
            meta = {"meta": {"n_ctx": self.ep.n_ctx}} if self.ep.n_ctx else {}
            self._json(200, {"object": "list", "data": [
                {"id": m, "object": "model", **meta} for m in self.ep.models]})
        elif self.command == "GET" and path == "/props" and self.ep.n_ctx:
            self._json(200, {"default_generation_settings": {"n_ctx": self.ep.n_ctx},
                             "model_alias": self.ep.models[0], "total_slots": 1})
        elif self.command == "GET" and path == "/api/tags":
            self._json(200, {"models": [{"name": m, "model": m} for m in self.ep.models]})
        elif self.command == "POST" and path == "/api/show":
            self._ollama_show(body)
        elif self.command == "GET" and path == "/api/ps":
            loaded = self.ep.ollama_loaded_context
            self._json(200, {"models": [] if not loaded else [
                {"name": self.ep.models[0], "model": self.ep.models[0], "size": 1,
                 "details": {"family": "qwen2"}, "size_vram": 0, "context_length": loaded}]})
        elif self.command == "POST" and path == "/tokenize" and self.ep.chars_per_token:
            self._tokenize(body)
        elif self.command == "POST" and path.endswith("/chat/completions"):
            self._generate(body, _openai_chat_frames)
        elif self.command == "POST" and path.endswith("/completions"):
            self._generate(body, _openai_completion_frames)
        elif self.command == "POST" and path == "/api/generate":
            self._generate(body, _ollama_frames)
        elif self.command == "POST" and path == "/completion":
            self._generate(body, _llamacpp_frames)
        else:
            self._json(404, {"error": {"message": f"no route {path}", "code": "not_found"}})

    def _tokenize(self, body: Any) -> None:
        """Count tokens as vLLM (`prompt` -> `count`) or llama.cpp (`content` -> `tokens`)."""
        body = body if isinstance(body, dict) else {}
        if self.ep.tokenizer_flavour == "empty" or (
                self.ep.tokenizer_flavour == "llamacpp" and "content" not in body):
            self._json(200, {"tokens": []})
            return
        text = str(body.get("prompt", body.get("content", "")))
        specials = 0
        if self.ep.knows_qwen_tokens:  # a Qwen tokenizer: each special token is one token
            for token in _QWEN_SPECIAL_TOKENS:
                specials += text.count(token)
                text = text.replace(token, "")
        tokens = list(range(specials + math.ceil(len(text) / self.ep.chars_per_token)))
        if "prompt" in body:
            self._json(200, {"count": len(tokens), "max_model_len": self.ep.max_model_len,
                             "tokens": tokens})
        else:
            self._json(200, {"tokens": tokens})

    def _ollama_show(self, body: Any) -> None:
        """Answer `POST /api/show` as Ollama does (404 for a model it does not have)."""
        name = body.get("model") or body.get("name") if isinstance(body, dict) else None
        if name not in self.ep.models:
            self._json(404, {"error": f"model '{name}' not found"})
            return
        info: dict[str, Any] = {"general.architecture": "qwen2"}
        if self.ep.ollama_context_length:
            info["qwen2.context_length"] = self.ep.ollama_context_length
        self._json(200, {"modelfile": "FROM qwen", "parameters": self.ep.ollama_parameters,
                         "template": "{{ .Prompt }}", "details": {"family": "qwen2"},
                         "model_info": info, "capabilities": ["completion", "insert"]})

    def _authorized(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.ep.api_key}"

    def _control(self, path: str, body: Any) -> None:
        ep = self.ep
        if path == "/_control/replies" and isinstance(body, dict):
            ep.script(*(Reply.from_json(r) for r in body.get("replies", [])))
            if "default" in body:
                ep.default = Reply.from_json(body["default"])
            self._json(200, {"queued": len(ep.replies)})
        elif path == "/_control/requests":
            with ep._cond:
                recs = [asdict(r) for r in ep.requests]
            self._json(200, {"requests": recs, "disconnects": ep.disconnects,
                             "completed": ep.completed})
        elif path == "/_control/reset":
            ep.reset()
            self._json(200, {})
        else:
            self._json(404, {"error": "unknown control route"})

    # -- responses -------------------------------------------------------------------
    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _generate(self, body: Any, frames: Callable[[Reply, bool, Any], Iterator[bytes]]) -> None:
        reply = self.ep._next_reply(body)
        try:
            self._sleep(reply.delay)
            if reply.status != 200 or reply.body is not None:
                self._raw(reply)
                return
            stream = bool(isinstance(body, dict) and body.get("stream", False))
            if not stream:
                data = b"".join(frames(reply, False, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.ep._count("completed")
                return
            self.send_response(200)
            ctype = "application/x-ndjson" if frames is _ollama_frames else "text/event-stream"
            self.send_header("Content-Type", ctype)
            self.send_header("Transfer-Encoding", "chunked")
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            stream = ([f.encode() for f in reply.raw_frames] if reply.raw_frames is not None
                      else frames(reply, True, body))
            for i, frame in enumerate(stream):
                if reply.cut_after is not None and i >= reply.cut_after:
                    # Drop the connection mid-stream, as a crashing server would.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if i:
                    self._sleep(reply.chunk_delay)
                self._chunk(frame)
            self._chunk(b"")
            self.ep._count("completed")
        except _Gone:
            self.close_connection = True
            self.ep._count("disconnects")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self.ep._count("disconnects")

    def _raw(self, reply: Reply) -> None:
        data = (reply.body if reply.body is not None else json.dumps(
            {"error": {"message": f"scripted status {reply.status}", "type": "error",
                       "code": str(reply.status)}})).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        if self._client_gone():
            raise _Gone
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _sleep(self, seconds: float) -> None:
        """Wait, but notice a client that hangs up meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self._client_gone(min(remaining, 0.02)):
                raise _Gone

    def _client_gone(self, wait: float = 0.0) -> bool:
        conn = self.connection
        readable, _, _ = select.select([conn], [], [], wait)
        if not readable:
            return False
        if isinstance(conn, ssl.SSLSocket):
            return _tls_peer_closed(conn)
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


def _tls_peer_closed(conn: ssl.SSLSocket) -> bool:
    """Tell whether a readable TLS connection was closed (TLS sockets cannot peek)."""
    timeout = conn.gettimeout()
    conn.setblocking(False)
    try:
        return conn.recv(1) == b""  # a client sends nothing else while it waits for an answer
    except ssl.SSLWantReadError:
        return False
    except OSError:
        return True
    finally:
        conn.settimeout(timeout)


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _openai_completion_frames(reply: Reply, stream: bool, body: Any) -> Iterator[bytes]:
    model = body.get("model", "") if isinstance(body, dict) else ""
    if not stream:
        yield json.dumps({"id": "cmpl-1", "object": "text_completion", "model": model,
                          "choices": [{"index": 0, "text": reply.text,
                                       "finish_reason": reply.finish_reason}]}).encode()
        return
    for piece in reply.pieces():
        yield _sse({"id": "cmpl-1", "object": "text_completion", "model": model,
                    "choices": [{"index": 0, "text": piece, "finish_reason": None}]})
    yield _sse({"id": "cmpl-1", "object": "text_completion", "model": model,
                "choices": [{"index": 0, "text": "", "finish_reason": reply.finish_reason}]})
    options = body.get("stream_options") if isinstance(body, dict) else None
    if isinstance(options, dict) and options.get("include_usage"):
        prompt = math.ceil(len(str(body.get("prompt", ""))) / 4)
        cached = None if reply.cached_tokens is None else min(reply.cached_tokens, prompt)
        yield _sse({"id": "cmpl-1", "object": "text_completion", "model": model, "choices": [],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": len(reply.pieces()),
                              "total_tokens": prompt + len(reply.pieces()),
                              "prompt_tokens_details": None if cached is None
                              else {"cached_tokens": cached}}})
    yield b"data: [DONE]\n\n"


def _openai_chat_frames(reply: Reply, stream: bool, body: Any) -> Iterator[bytes]:
    model = body.get("model", "") if isinstance(body, dict) else ""
    if not stream:
        message = {"role": "assistant", "content": reply.text}
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        yield json.dumps({"id": "chat-1", "object": "chat.completion", "model": model,
                          "choices": [{"index": 0, "message": message,
                                       "finish_reason": reply.finish_reason}]}).encode()
        return
    def frame(delta: dict[str, str], finish: str | None = None) -> bytes:
        return _sse({"id": "chat-1", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    size = max(1, reply.chunk_size)
    for i in range(0, len(reply.reasoning), size):
        yield frame({"reasoning_content": reply.reasoning[i : i + size]})
    for piece in reply.pieces():
        yield frame({"content": piece})
    yield frame({}, reply.finish_reason)
    yield b"data: [DONE]\n\n"


def _ollama_frames(reply: Reply, stream: bool, body: Any) -> Iterator[bytes]:
    model = body.get("model", "") if isinstance(body, dict) else ""
    if not stream:
        yield json.dumps({"model": model, "response": reply.text, "done": True,
                          "done_reason": reply.finish_reason}).encode()
        return
    for piece in reply.pieces():
        yield json.dumps({"model": model, "response": piece, "done": False}).encode() + b"\n"
    yield json.dumps({"model": model, "response": "", "done": True,
                      "done_reason": reply.finish_reason}).encode() + b"\n"


def _llamacpp_frames(reply: Reply, stream: bool, body: Any) -> Iterator[bytes]:
    if not stream:
        yield json.dumps({"content": reply.text, "stop": True}).encode()
        return
    for piece in reply.pieces():
        yield _sse({"content": piece, "stop": False})
    yield _sse({"content": "", "stop": True, "stop_type": "eos"})


def main(argv: list[str] | None = None) -> int:
    """Run the endpoint until interrupted, printing its URL once it listens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="write the chosen port to this file")
    parser.add_argument("--text", default="pass", help="default completion text")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--models", default="qwen2.5-coder:1.5b-base,qwen-test")
    parser.add_argument("--api-key", default=None, help="require this bearer token")
    parser.add_argument("--certfile", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--keyfile", help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    tls = None
    if args.certfile:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.certfile, args.keyfile)
    ep = FakeEndpoint(port=args.port, models=tuple(args.models.split(",")), api_key=args.api_key,
                      default=Reply(text=args.text, delay=args.delay, chunk_delay=args.chunk_delay),
                      tls=tls)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as fh:
            fh.write(str(ep.port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"listening on {ep.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        ep.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
