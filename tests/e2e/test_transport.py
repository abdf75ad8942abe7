"""Transport end to end: HTTPS with a private CA (caBundle, SSL_CERT_FILE) and HTTP proxies.

A throwaway CA (trustme) signs the fake endpoint's certificate for 127.0.0.1; nothing here
leaves loopback. Proxy variables are read when the server starts, so each case launches its
own server with its own environment.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from lsprotocol import types
from pytest_lsp import LanguageClient

from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import ask
from testkit.session import STATUS, endpoint_options, launched, open_doc, start
from tests.fake_proxy import FakeProxy, Seen


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority that exists only for these tests."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    """The CA certificate as a PEM file, what users put in caBundle or SSL_CERT_FILE."""
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_endpoint(ca: trustme.CA) -> Iterator[FakeEndpoint]:
    """The fake endpoint over HTTPS, its certificate for 127.0.0.1 signed by the private CA."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    with FakeEndpoint(tls=ctx) as ep:
        yield ep


def env_without_no_proxy(**extra: str) -> dict[str, str]:
    """CLEAN_ENV (which exempts loopback from proxies) without NO_PROXY, plus `extra`."""
    env = {k: v for k, v in CLEAN_ENV.items() if k != "NO_PROXY"}
    return {**env, **extra}


def tls_messages(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if "TLS" in m.message]


def trusting(endpoint: FakeEndpoint, ca_file: str) -> dict:
    """Settings for `endpoint` with the private CA in caBundle."""
    options = endpoint_options(endpoint)
    options["endpoint"]["caBundle"] = ca_file
    return options


async def completes(client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path, text: str,
                    options: dict | None = None) -> None:
    """Start the server on `endpoint` and check that a completion comes back as `text`."""
    await start(client, options or endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text=text)
    uri = open_doc(client, tmp_path / "p.py", "value = \n")
    assert await ask(client, uri, 0, 8) == text


# -- TLS ------------------------------------------------------------------------------------
async def test_https_endpoint_with_private_ca_in_ca_bundle(
    client: LanguageClient, tls_endpoint: FakeEndpoint, ca_file: str, tmp_path: Path
):
    assert tls_endpoint.url.startswith("https://127.0.0.1:")
    await completes(client, tls_endpoint, tmp_path, "a + b", trusting(tls_endpoint, ca_file))
    (req,) = tls_endpoint.generation_requests()
    assert req.path == "/v1/completions"
    assert tls_endpoint.tls_failures == 0
    assert not tls_messages(client)


async def test_https_endpoint_without_the_ca_fails_once_clearly_and_recovers(
    client: LanguageClient, tls_endpoint: FakeEndpoint, ca_file: str, tmp_path: Path
):
    options = endpoint_options(tls_endpoint)
    await start(client, options, tmp_path)
    tls_endpoint.default = Reply(text="never shown")
    uri = open_doc(client, tmp_path / "t.py", "value = \n")
    for i in range(3):
        assert await ask(client, uri, 0, 8, invoked=bool(i % 2)) is None
    # The certificate was refused by the client: no request ever reached the endpoint.
    assert tls_endpoint.tls_failures >= 1
    assert not tls_endpoint.generation_requests()
    errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1, errors
    (message,) = errors
    assert "TLS handshake" in message and "CERTIFICATE_VERIFY_FAILED" in message, message
    assert "qwen.endpoint.caBundle" in message and "SSL_CERT_FILE" in message
    assert any(getattr(s, "state", None) == "error" and "TLS" in getattr(s, "message", "")
               for s in STATUS[id(client)]), STATUS[id(client)]
    # The server is alive and says what is wrong ...
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert "TLS" in stats.endpoints[0].lastError
    # ... and following the advice fixes it without a restart.
    options["endpoint"]["caBundle"] = ca_file
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"qwen": options}))
    tls_endpoint.default = Reply(text="fixed")
    uri2 = open_doc(client, tmp_path / "u.py", "other = \n")
    assert await ask(client, uri2, 0, 8) == "fixed"
    assert len(tls_messages(client)) == 1


async def test_ssl_cert_file_trusts_the_private_ca(
    tls_endpoint: FakeEndpoint, ca_file: str, tmp_path: Path
):
    async with launched(env={**CLEAN_ENV, "SSL_CERT_FILE": ca_file}) as client:
        await completes(client, tls_endpoint, tmp_path, "trusted")
        assert len(tls_endpoint.generation_requests()) == 1
        assert not tls_messages(client)


def run_doctor(env: dict[str, str]) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "lsp_server", "doctor", "--json"],
                          capture_output=True, text=True, timeout=60, env=env)
    return proc.returncode, json.loads(proc.stdout)


def test_doctor_names_the_tls_failure_and_suggests_ca_bundle(
    tls_endpoint: FakeEndpoint, ca_file: str
):
    env = {**CLEAN_ENV, "QWEN_LSP_BASE_URL": f"{tls_endpoint.url}/v1",
           "QWEN_LSP_PROVIDER": "openai", "QWEN_LSP_COMPLETION_MODEL": "qwen-test"}
    code, report = run_doctor(env)
    assert code == 1 and report["ok"] is False
    reachable = next(c for c in report["checks"] if c["name"] == "reachable")
    assert reachable["ok"] is False and "TLS" in reachable["detail"], reachable
    assert "qwen.endpoint.caBundle" in reachable["fix"]
    # With the CA trusted through SSL_CERT_FILE the same endpoint passes every check.
    code, report = run_doctor({**env, "SSL_CERT_FILE": ca_file})
    assert code == 0 and report["ok"] is True, report


# -- proxies ----------------------------------------------------------------------------------
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
async def test_completion_goes_through_the_proxy(
    endpoint: FakeEndpoint, tmp_path: Path, variable: str
):
    with FakeProxy() as proxy:
        async with launched(env=env_without_no_proxy(**{variable: proxy.url})) as client:
            await completes(client, endpoint, tmp_path, "proxied")
        target = f"{endpoint.url}/v1/completions"
        assert Seen("POST", target) in proxy.requests(), proxy.requests()
        assert len(endpoint.generation_requests()) == 1


async def test_https_goes_through_a_connect_tunnel(
    tls_endpoint: FakeEndpoint, ca_file: str, tmp_path: Path
):
    with FakeProxy() as proxy:
        env = env_without_no_proxy(HTTPS_PROXY=proxy.url)
        async with launched(env=env) as client:
            await completes(client, tls_endpoint, tmp_path, "tunnelled",
                            trusting(tls_endpoint, ca_file))
        # The proxy saw only the tunnel; the TLS inside it was verified against the CA.
        assert proxy.requests() == [Seen("CONNECT", f"127.0.0.1:{tls_endpoint.port}")]
        assert len(tls_endpoint.generation_requests()) == 1


@pytest.mark.parametrize("no_proxy", ["localhost,127.0.0.1", "*"])
async def test_no_proxy_bypasses_the_proxy(endpoint: FakeEndpoint, tmp_path: Path,
                                           no_proxy: str):
    with FakeProxy() as proxy:
        env = env_without_no_proxy(HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url,
                                   ALL_PROXY=proxy.url, NO_PROXY=no_proxy)
        async with launched(env=env) as client:
            await completes(client, endpoint, tmp_path, "direct")
        assert proxy.requests() == []
        assert len(endpoint.generation_requests()) == 1
