"""Redaction of credentials inside snippets before they leave the machine."""

from __future__ import annotations

import random
import string

import pytest

from lsp_server.context.redact import REDACTED, _camel_case_words, looks_like_secret, redact

GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2


@pytest.mark.parametrize("secret", [
    "AKIAIOSFODNN7EXAMPLE",
    "sk-proj-abcdefghijklmnopqrstuvwx12",
    "sk-0123456789abcdef0123456789abcdef",
    GITHUB,
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "xoxb-123456789012-abcdefghijkl",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "hf_abcdefghijklmnopqrstuvwxyzABCDEF",
])
def test_known_token_shapes_are_redacted(secret: str) -> None:
    out = redact(f'client = make("{secret}")\n')
    assert secret not in out
    assert REDACTED in out


def test_private_key_block() -> None:
    text = "x = 1\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n" \
           "-----END RSA PRIVATE KEY-----\ny = 2\n"
    out = redact(text)
    assert "MIIEpAIBAAKCAQEA" not in out
    assert out.startswith("x = 1\n") and out.endswith("y = 2\n")


def test_unterminated_private_key_is_cut_to_the_end() -> None:
    out = redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n")
    assert "b3BlbnNzaC1rZXkt" not in out


def test_assignments_and_urls() -> None:
    text = ('password = "hunter2hunter2"\nDB_URL = "postgres://app:s3cretpw@db/app"\n'
            'token: "tok_abcdefgh"\n')
    out = redact(text)
    assert "hunter2hunter2" not in out
    assert "s3cretpw" not in out
    assert "tok_abcdefgh" not in out
    assert "postgres://app:" in out


def test_placeholders_and_code_are_left_alone() -> None:
    text = ('token = "<your-token>"\npassword = "${DB_PASSWORD}"\n'
            "def compute_the_total_price_for_all_items(cart): ...\n"
            'name = "a_really_long_identifier_name_here"\n'
            "CamelCaseIdentifierThatIsQuiteLong = 1\n")
    assert redact(text) == text


def test_high_entropy_strings() -> None:
    assert looks_like_secret("Zx8Kq2Lw9Vb4Nm7Pr5Ts3Uy6Wa1Cd0Ef")
    assert looks_like_secret("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    assert not looks_like_secret("test_some_really_long_function_name")
    assert not looks_like_secret("short")
    out = redact('KEY = "Zx8Kq2Lw9Vb4Nm7Pr5Ts3Uy6Wa1Cd0Ef"\n')
    assert "Zx8Kq2Lw9Vb4" not in out


def test_camel_case_names_with_digits_are_code_not_keys() -> None:
    """Long CamelCase names with a digit (a class, a constant) stay as they are: redacted,
    they would break the code around them; random keys of the same length do not read
    as words and are still redacted."""
    for name in ("RemovedInMarshmallow4Warning", "MIMEApplicationJSONCharsetUTF8",
                 "APIGatewayProxyWebsocketEventV2", "TestBasicAuth401WithCustomRealm",
                 "convertBase64ToUint8Array", "convertUint8ArrayToBase64",
                 "btcLowerAddressRegexStringBech32"):
        assert not looks_like_secret(name), name
        assert redact(f"class {name}(Warning): ...\n") == f"class {name}(Warning): ...\n"
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    keys = ["".join(rng.choice(alphabet) for _ in range(rng.choice((24, 32, 40))))
            for _ in range(5000)]
    assert not any(_camel_case_words(k) for k in keys)
