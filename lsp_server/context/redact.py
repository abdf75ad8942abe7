"""Redact strings that look like credentials before any text leaves the machine."""

from __future__ import annotations

import math
import re
from collections import Counter

from cachetools import LRUCache

REDACTED = "[REDACTED]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*-----|\Z)", re.S
)
# Well-known token shapes; each is specific enough to redact wherever it appears.
_KNOWN_TOKENS = re.compile(
    r"""
    (?<![A-Za-z0-9_])  # only try at word starts: keeps the scan linear and fast
    (?: \b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[0-9A-Z]{16}\b   # AWS key ids
    | \bsk-(?:proj-|ant-|live-|svcacct-)?[A-Za-z0-9_\-]{16,}               # OpenAI, DashScope...
    | \b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b                          # GitHub tokens
    | \bgithub_pat_[A-Za-z0-9_]{22,}
    | \bglpat-[A-Za-z0-9_\-]{20,}                                           # GitLab
    | \bxox[abposr]-[A-Za-z0-9\-]{10,}                                      # Slack
    | \bAIza[0-9A-Za-z_\-]{35}                                              # Google API keys
    | \b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}                         # Stripe
    | \bnpm_[A-Za-z0-9]{36}\b
    | \bpypi-[A-Za-z0-9_\-]{40,}
    | \bhf_[A-Za-z0-9]{30,}\b                                               # Hugging Face
    | \beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}    # JWTs
    )""",
    re.X,
)
_URL_CREDENTIALS = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@'\"]+:)[^/\s@'\"]+@")
# Found from the `=`/`:` and its quoted value, then the key name is read backwards: far faster
# than trying a case-insensitive alternation at every position.
_QUOTED_VALUE = re.compile(r"""[:=]\s*(["'])([^"'\s]{8,})(?=["'])""")
_KEY_BEFORE = re.compile(r"""([A-Za-z_][\w\-]*)["']?\s*$""")
_SECRET_KEY = re.compile(
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?secret|auth[_-]?token",
    re.I,
)
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{24,}={0,2}")
_PLACEHOLDER = re.compile(
    r"^(?:x+|\*+|<.*>|\$\{?.*|%.*|\{.*\}|your[_-].*|changeme|example.*)$", re.I
)


def shannon_entropy(token: str) -> float:
    """Return the Shannon entropy of a string in bits per character."""
    if not token:
        return 0.0
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def looks_like_secret(token: str) -> bool:
    """Return True when a long token is random enough to be a key rather than a word or name."""
    if len(token) < 24:
        return False
    stripped = token.rstrip("=")
    if re.fullmatch(r"[0-9a-fA-F]+", stripped):
        # Hex: content hashes and key material look alike; long ones are redacted either way.
        return len(stripped) >= 32 and shannon_entropy(stripped) >= 3.0
    has_digit = any(c.isdigit() for c in stripped)
    has_upper = any(c.isupper() for c in stripped)
    has_lower = any(c.islower() for c in stripped)
    if sum((has_digit, has_upper, has_lower)) < 2 or not has_digit:
        return False
    # Identifiers in snake_case or with long words are not random: look at the pieces.
    pieces = re.split(r"[_\-/+]", stripped)
    if max(len(p) for p in pieces) < 16:
        return False
    return shannon_entropy(stripped) >= 4.0


def _redact_candidate(match: re.Match[str]) -> str:
    token = match.group(0)
    return REDACTED if looks_like_secret(token) else token


def _redact_assignment(match: re.Match[str]) -> str:
    text = match.string
    key = _KEY_BEFORE.search(text, max(0, match.start() - 60), match.start())
    value = match.group(2)
    if key is None or not _SECRET_KEY.search(key.group(1)):
        return match.group(0)
    if _PLACEHOLDER.match(value) or value.startswith(REDACTED):
        return match.group(0)
    return match.group(0)[: match.start(2) - match.start()] + REDACTED


def redact(text: str) -> str:
    """Return text with private keys, known token shapes and high-entropy strings replaced."""
    if not text:
        return text
    text = _PRIVATE_KEY.sub("[REDACTED PRIVATE KEY]", text)
    text = _KNOWN_TOKENS.sub(REDACTED, text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: m.group("head") + REDACTED + "@", text)
    if "'" in text or '"' in text:
        text = _QUOTED_VALUE.sub(_redact_assignment, text)
    return _CANDIDATE.sub(_redact_candidate, text)


class LineRedactor:
    """Redact a document's text line by line, remembering lines it has already seen.

    Between keystrokes only a line or two of the text around the cursor changes, so this
    costs a dictionary look-up per line instead of a full scan on the hot path. A private key
    block spans lines, so text holding one is scanned whole.
    """

    def __init__(self, maxsize: int = 2048) -> None:
        self._lines: LRUCache[str, str] = LRUCache(maxsize=maxsize)

    def __call__(self, text: str) -> str:
        """Return `text` redacted."""
        if "PRIVATE KEY" in text:
            return redact(text)
        out = []
        for line in text.splitlines(keepends=True):
            clean = self._lines.get(line)
            if clean is None:
                clean = self._lines[line] = redact(line)
            out.append(clean)
        return "".join(out)
