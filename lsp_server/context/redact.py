"""Redact strings that look like credentials before any text leaves the machine."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import LRUCache

from lsp_server.context.names import name_pieces

REDACTED = "[REDACTED]"
REDACTED_PRIVATE_KEY = "[REDACTED PRIVATE KEY]"
PLACEHOLDERS = (REDACTED_PRIVATE_KEY, REDACTED)

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
    if _camel_case_words(stripped):
        return False
    return shannon_entropy(stripped) >= 4.0


def _camel_case_words(token: str) -> bool:
    """Return whether a token reads as CamelCase words (`RemovedInMarshmallow4Warning`,
    `MIMEApplicationJSONCharsetUTF8`, `convertBase64ToUint8Array`): every piece a word of
    two or more letters with a vowel or an acronym (the first may be an abbreviation:
    `btcAddressRegexStringBech32`), each maybe followed by a number of up to four digits
    (`Base64`, `UTF8`), four characters a piece on average, with four digits at most in all.
    A random key breaks into many one- and two-letter pieces."""
    if not token.isalnum() or not token.isascii() or token[0].isdigit():
        return False  # a name never starts with a digit
    pieces = name_pieces(token)
    if "".join(pieces) != token or sum(c.isdigit() for c in token) > 4:
        return False
    words: list[str] = []
    for p in pieces:
        if p.isdigit() and len(p) > 4:  # `TestBasicAuth401`, `Iso8601`
            return False
        if p.isdigit() and words and not words[-1][-1].isdigit():
            words[-1] += p  # a word's number: `Base64`, `Uint8`
        else:
            words.append(p)
    if len(words) * 4 > len(token):
        return False
    odd = 0  # one-letter acronyms
    for i, p in enumerate(words):
        word = p.rstrip("0123456789")
        if not word:
            continue
        if word.isupper():
            odd += len(word) == 1
            if len(word) > 6:
                return False
        elif len(word) < 2:
            return False
        elif not any(v in word.lower() for v in "aeiouy"):
            if len(word) > 4 or i:
                return False  # (a name may start with an abbreviation: `btcAddress`)
    return odd <= 2


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


def _url_password(match: re.Match[str]) -> str:
    return match.group("head") + REDACTED + "@"


# The passes, in order: each a pattern and what a match becomes (unchanged: not a secret).
_PASSES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str], str], ...] = (
    (_PRIVATE_KEY, lambda m: REDACTED_PRIVATE_KEY, ""),
    (_KNOWN_TOKENS, lambda m: REDACTED, ""),
    (_URL_CREDENTIALS, _url_password, "://"),
    (_QUOTED_VALUE, _redact_assignment, "'\""),
    (_CANDIDATE, _redact_candidate, ""),
)


def redact(text: str) -> str:
    """Return text with private keys, known token shapes and high-entropy strings replaced."""
    if not text:
        return text
    for pattern, replace, needs in _PASSES:
        if not needs or any(c in text for c in _needed(needs)):
            text = pattern.sub(replace, text)
    return text


def _needed(needs: str) -> tuple[str, ...]:
    return (needs,) if needs == "://" else tuple(needs)


@dataclass
class Redaction:
    """Redacted text, where a position in the original ended up, and what was replaced."""

    text: str
    cursor: int
    # (placeholder, original) for every secret replaced, in order of appearance per pass.
    replaced: list[tuple[str, str]] = field(default_factory=list)


def redact_tracked(text: str, cursor: int = 0) -> Redaction:
    """Redact `text` like `redact`, following position `cursor` and recording each secret.

    A cursor inside a secret ends up after its placeholder: the text around a cursor is
    redacted as one string, so a key split by the cursor never leaves in two halves.
    """
    result = Redaction(text, max(0, min(cursor, len(text))))
    if not text:
        return result
    for pattern, replace, needs in _PASSES:
        if needs and not any(c in result.text for c in _needed(needs)):
            continue
        _apply_tracked(pattern, replace, result)
    return result


def _apply_tracked(pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str],
                   result: Redaction) -> None:
    text, cursor = result.text, result.cursor
    out: list[str] = []
    size = 0  # characters in `out`
    last = 0
    mapped: int | None = None
    for m in pattern.finditer(text):
        new = replace(m)
        old = m.group(0)
        if new == old:
            continue
        if mapped is None and cursor <= m.start():
            mapped = size + cursor - last
        out.append(text[last:m.start()])
        size += m.start() - last
        if mapped is None and cursor < m.end():
            mapped = size + len(new)  # inside the secret: after its placeholder
        out.append(new)
        size += len(new)
        last = m.end()
        head = len(_common_prefix(old, new))
        tail = len(_common_prefix(old[head:][::-1], new[head:][::-1]))
        result.replaced.append((new[head:len(new) - tail], old[head:len(old) - tail]))
    if not out:
        return
    if mapped is None:
        mapped = size + cursor - last
    out.append(text[last:])
    result.text = "".join(out)
    result.cursor = mapped


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


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

    def around(self, text: str, cursor: int) -> tuple[str, int]:
        """Return `text` redacted as one string and where `cursor` is in the result.

        The cursor's line is redacted whole (a key split by the cursor is still one key);
        the other lines come from the cache.
        """
        if "PRIVATE KEY" in text:
            whole = redact_tracked(text, cursor)
            return whole.text, whole.cursor
        start = text.rfind("\n", 0, cursor) + 1
        end = text.find("\n", cursor)
        end = len(text) if end < 0 else end + 1
        line = redact_tracked(text[start:end], cursor - start)
        before = self(text[:start])
        return before + line.text + self(text[end:]), len(before) + line.cursor
