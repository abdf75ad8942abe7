"""What the lines around the cursor name, and how close to it; the call or literal it is in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsp_server.context.names import IDENTIFIER, STRING_LITERAL
from lsp_server.positions import newline_above, newline_below

WINDOW_LINES_ABOVE = 80
WINDOW_LINES_BELOW = 30
_ID = re.compile(IDENTIFIER)
# A name in the code around a cursor: `$` is a letter of JavaScript names (`$pos` is not `pos`).
NAME = r"[A-Za-z_$][\w$]*"
# `this.#cache.notify`: a JavaScript private member (`#cache`) is a link of the chain too.
_CHAIN = re.compile(rf"{NAME}(?:\s*(?:\.|->|::)\s*#?{NAME})*")
_SEP = re.compile(r"\s*(?:\.|->|::)\s*")
_AFTER_CLOSE = re.compile(rf"[)\]]\s*(?:\.|->)\s*({NAME})")
_CALL_MEMBER = re.compile(rf"(?<![\w.$])([A-Za-z_$][\w.$]*)\([^()\n]*\)\s*\.\s*({NAME})")
# `xs[i].name`: an element has its array's type name, so `xs` is the receiver to read.
_INDEX = re.compile(r"(?<=[\w$\])])\[([^\[\]\n]*)\](?=\s*\.)")
_SELF_NAMES = frozenset({"self", "this", "cls"})
_KEYWORDS = frozenset(
    """and as assert async await break case catch class const continue def default del delete
    do elif else enum except export extends false False final finally fn for from func function
    go if impl implements import in interface is lambda let match mod mut new nil None not null
    or package pass private protected pub public raise return static struct super switch throw
    true True try type typeof use var void while with yield int str bool float string number any
    char long short unsigned signed double byte print len range list dict set tuple object
    isinstance super property staticmethod classmethod""".split()
)


# The receiver of a member being typed at a line's end: `c` of `c.` (and of `c.JS`), and
# `Manager.instance()` of `Manager.instance().` (its arguments left out).
_TYPED_RECEIVER = re.compile(rf"(?<![\w.#$])((?:{NAME}(?:\(\))?\s*(?:\.|->|::)\s*#?)*{NAME}"
                             r"(?:\(\))?)\s*(?:\.|->|::)\s*(#?[\w$]*)$")
# A call's arguments, closed on the line (one level of parentheses within, read again for
# more), and an expression in parentheses before a member (`(await Devices.get()).`).
_ARGUMENTS = re.compile(r"(?<=[\w$)\]])\((?:[^()\n]|\([^()\n]*\))*\)")
_GROUPED = re.compile(rf"\((?:await\s+)?({NAME}(?:\(\))?(?:\.#?{NAME}(?:\(\))?)*)\)(?=\s*\.)")


def typed_receiver(before: str) -> tuple[str, str] | None:
    """Return the receiver of the member typed at the end of `before` (`c.`, `c.JS`,
    `this.store?.`, `pool.get(id).`) as a plain chain (`pool.get()`), with what of the
    member is typed so far; or None."""
    chain = plain_chains(before, index_names=False)
    if ")" in chain:
        chain = STRING_LITERAL.sub('""', chain)
        for _ in range(3):
            chain, n = _ARGUMENTS.subn("()", chain)
            if not n:
                break
        chain = _GROUPED.sub(r"\1", chain)
    m = _TYPED_RECEIVER.search(chain)
    return None if m is None else (_SEP.sub(".", m.group(1)), m.group(2))


def plain_chains(line: str, index_names: bool = True) -> str:
    """Return a line with its member chains in the form the rest reads: TypeScript's
    `a?.b` and `a!.b` as `a.b`; `xs[i].b` as `xs.b`, with what the index names after the
    line (`; i`, unless not index_names), so that it still counts."""
    if "?." in line or "!." in line:
        line = line.replace("?.", ".").replace("!.", ".")
    if "]" in line:
        inner: list[str] = []
        line = _INDEX.sub(lambda m: inner.append(m.group(1)) or "", line)
        if inner and index_names:
            line += " ; " + " ; ".join(inner)
    return line


# A callee, with TypeScript's type arguments (`computed<S[]>(`).
_CALLEE = re.compile(rf"((?:{NAME}\s*\.\s*)*{NAME})\s*(?:<[^()]*>)?\s*$")


def unclosed(text: str, offset: int) -> tuple[int, int]:
    """Return where the bracket that holds an offset opens (-1 when none does, within 3,000
    characters), and how many commas of its own lie between them."""
    depth = 0
    commas = 0
    for i in range(offset - 1, max(-1, offset - 3000), -1):
        c = text[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if not depth:
                return i, commas
            depth -= 1
        elif c == "," and not depth:
            commas += 1
    return -1, 0


def enclosing_call(text: str, offset: int) -> tuple[str, int]:
    """Return the function whose argument list holds an offset (`Backoff` for a cursor
    among `Backoff(op,\n  Retries(3),\n  |`) and which argument the offset is in (2), or
    ('', -1) when it is in none, or in a block."""
    i, argument = unclosed(text, offset)
    if i < 0 or text[i] != "(":
        return "", -1
    m = _CALLEE.search(text, max(0, i - 200), i)
    return (_SEP.sub(".", m.group(1)), argument) if m else ("", -1)


# A Go composite literal's type, right before its brace: `&Command{`, `cobra.Command{`.
_LITERAL_TYPE = re.compile(rf"(?<![\w\]])((?:{NAME}\.)?{NAME})$")


def enclosing_literal(text: str, offset: int) -> str:
    """Return the type of the Go composite literal whose fields an offset is among
    (`Command` for `&Command{\n\tUse: "x",\n\t|`), or ''."""
    i, _ = unclosed(text, offset)
    if i < 0 or text[i] != "{":
        return ""
    m = _LITERAL_TYPE.search(text, max(0, i - 200), i)
    return _SEP.sub(".", m.group(1)) if m else ""


@dataclass(slots=True)
class _Occ:
    prox: float = 0.0
    member: bool = False
    bare: bool = False
    before: bool = False


def _proximity(delta: int) -> float:
    """Score how close a line is to the cursor: lines above count more than lines below."""
    if delta >= 0:
        return 1.0 / (1.0 + delta / 15.0)
    return 0.8 / (1.0 + (-delta) / 8.0)


class _Cursor:
    """What the lines around the cursor name, and how close to it."""

    def __init__(self, text: str, offset: int, file_names: tuple[str, ...] = ()) -> None:
        self.line = text.count("\n", 0, offset)
        self.occ: dict[str, _Occ] = {}
        self.receivers: dict[str, float] = {}
        self.member_calls: dict[str, dict[str, float]] = {}  # receiver -> member -> prox
        start = newline_above(text, offset, WINDOW_LINES_ABOVE + 1)
        start = start + 1 if start else 0
        end = newline_below(text, offset, WINDOW_LINES_BELOW)
        self.window_start = start
        first = self.line - text.count("\n", start, offset)
        occ = self.occ
        cursor_col = offset - (text.rfind("\n", 0, offset) + 1)
        for i, line in enumerate(text[start:end].split("\n")):
            delta = self.line - (first + i)
            if delta == 0:
                line = line[:cursor_col]
            line = plain_chains(line)
            prox = _proximity(delta)
            before = delta > 0 or delta == 0
            # `f(x).name`, `a[0].name`: members of something this cannot name.
            unnamed = frozenset(_AFTER_CLOSE.findall(line)) if (
                ")." in line or "]." in line or ")->" in line) else frozenset()
            for chain in _CHAIN.findall(line):
                parts = _SEP.split(chain) if len(chain) > 2 and (
                    "." in chain or ":" in chain or ">" in chain) else (chain,)
                receiver = ""
                after_dot = parts[0] in unnamed
                for name in parts:
                    if name not in _KEYWORDS or name in _SELF_NAMES:
                        o = occ.get(name)
                        if o is None:
                            o = occ[name] = _Occ()
                        if prox > o.prox:
                            o.prox = prox
                        if before:
                            o.before = True
                        if receiver:
                            o.member = True
                            if prox > self.receivers.get(receiver, 0.0):
                                self.receivers[receiver] = prox
                            calls = self.member_calls.setdefault(receiver, {})
                            if prox > calls.get(name, 0.0):
                                calls[name] = prox
                        elif after_dot:
                            o.member = True
                        else:
                            o.bare = True
                    receiver = f"{receiver}.{name}" if receiver else name
            if ")" in line:
                for callee, member in _CALL_MEMBER.findall(line):
                    receiver = callee + "()"
                    if prox > self.receivers.get(receiver, 0.0):
                        self.receivers[receiver] = prox
                    calls = self.member_calls.setdefault(receiver, {})
                    calls[member] = max(prox, calls.get(member, 0.0))
                    occ.setdefault(member, _Occ(prox, True, False, before)).member = True
        self.file_names = frozenset(file_names)
