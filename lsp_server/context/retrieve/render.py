"""Render chosen definitions as stubs that read as code: heads, doc lines, elided bodies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from lsp_server.context.index import FileEntry
from lsp_server.context.languages import BRACE_LANGUAGES, indent_unit
from lsp_server.context.names import STRING_LITERAL
from lsp_server.context.retrieve.model import _Cand
from lsp_server.context.symbols import CONTAINER_KINDS, Definition

# How an elided body is shown in brace languages: a comment, so the stub still parses.
_ELIDED_BODY = " { /* ... */ }"
_BRACE_LANGS = BRACE_LANGUAGES


def _indent_of(s: str) -> str:
    return s[: len(s) - len(s.lstrip())]


# What may make a line break in a head meaningful, or hide a bracket: comments and strings.
_UNSAFE_TO_JOIN = ("//", "/*", "#", "\\", "`", '"""', "'''")
_ANGLE_LANGS = frozenset({"typescript", "tsx", "javascript", "java", "rust", "cpp", "c_sharp"})


@lru_cache(maxsize=16_384)  # rendered again for every request that shows the definition
def compact_head(sig: str, language: str) -> str:
    """Join the lines of a head that break only inside parentheses, brackets or (where they
    are type parameters) angle brackets, as a one-line declaration of the same code: a long
    parameter list costs its indentation and line breaks, which the model needs no more than
    the compiler. A break inside braces (an object type's members), or anywhere in a head
    with comments or multi-line strings, is kept."""
    if "\n" not in sig or any(t in sig for t in _UNSAFE_TO_JOIN):
        return sig
    if language == "go" and sig.lstrip().startswith(("const (", "var (")):
        return sig  # a group's specs end at line breaks
    angles = language in _ANGLE_LANGS
    out: list[str] = []
    depth = braces = 0
    i, n = 0, len(sig)
    while i < n:
        ch = sig[i]
        if ch == "\n" and depth > 0 and braces == 0:
            j = i + 1
            while j < n and sig[j] in " \t":
                j += 1
            nxt = sig[j] if j < n else ""
            prev = out[-1] if out else ""
            if prev == "," and nxt in ")]>":
                out.pop()  # the trailing comma of a list written one item a line
            elif (prev not in "([<" and nxt not in ")]>") or (prev == nxt == "<"):
                out.append(" ")  # (`dual<\n  <A>(...`: `<<` would be a shift)
            i = j
            continue
        if ch in "'\"":  # a one-line string: copied as it is, brackets in it and all
            end = sig.find(ch, i + 1)
            if end < 0 or "\n" in sig[i:end]:
                return sig
            out.append(sig[i:end + 1])
            i = end + 1
            continue
        if ch in "([" or (angles and ch == "<" and sig[i + 1:i + 2] != "<"):
            depth += 1
        elif ch in ")]" or (angles and ch == ">" and sig[i - 1:i] not in ("=", "-")):
            depth = max(0, depth - 1)
        elif ch == "{":
            braces += 1
        elif ch == "}":
            braces = max(0, braces - 1)
        out.append(ch)
        i += 1
    return "".join(out)


def render_definition(d: Definition, language: str, *, with_doc: bool = True,
                      member_indent: str = "", bodyless: bool = False) -> str:
    """Render one definition as a stub: its head (compacted), doc line, and an elided body."""
    sig = compact_head(d.signature, language)
    if member_indent and not sig[:1].isspace():
        sig = member_indent + sig
    indent = _indent_of(sig)
    brace = language in _BRACE_LANGS
    doc = d.doc if with_doc else ""
    if d.kind in CONTAINER_KINDS:
        if brace:
            head = f"{sig} {{" if not sig.rstrip().endswith(("{", ";", "}")) else sig
            return (f"{indent}// {doc}\n" if doc else "") + head
        return sig + (f'\n{indent}    """{doc}"""' if doc else "")
    if d.kind in ("function", "method", "property"):
        if brace:
            text = sig
            if not bodyless and not sig.rstrip().endswith((";", "}")) and \
                    "abstract " not in sig:
                text += _ELIDED_BODY
            return (f"{indent}// {doc}\n" if doc else "") + text
        if doc:
            return f'{sig}\n{indent}    """{doc}"""'
        return f"{sig} ..."
    if is_go_spec(d, language):
        # One spec of a `const ( ... )` / `var ( ... )` group: shown in a group of its own
        # (render_file puts the specs of one group chosen together back in one).
        sig = f"{_GROUP_KEYWORD[d.kind]} (\n{_unaligned(sig)}\n)"
    if brace and doc:
        return f"{indent}// {doc}\n{sig}"
    return sig


_GROUP_KEYWORD = {"constant": "const", "variable": "var"}
_ALIGNMENT = re.compile(r"(?<=\S)[ \t]{2,}")


def is_go_spec(d: Definition, language: str) -> bool:
    """Return whether a definition is one spec of a Go `const ( ... )` or `var ( ... )`."""
    return language == "go" and d.kind in _GROUP_KEYWORD and d.signature.startswith("\t")


def group_cost(d: Definition) -> int:
    """Return what a spec's own group costs (`const (`, `)`): saved when it joins another."""
    return len(_GROUP_KEYWORD[d.kind]) + 4


def go_groups(definitions: Sequence[Definition]) -> dict[int, int]:
    """Return, by id, the first line of the group each Go spec belongs to: specs of one
    kind at most two lines apart (between two groups are at least `)` and `const (`)."""
    groups: dict[int, int] = {}
    prev: Definition | None = None
    key = -1
    for d in sorted((d for d in definitions if is_go_spec(d, "go")),
                    key=lambda d: d.start_line):
        if prev is None or d.kind != prev.kind or d.start_line - prev.end_line > 2:
            key = d.start_line
        groups[id(d)] = key
        prev = d
    return groups


def _unaligned(spec: str) -> str:
    """Return a one-line spec without gofmt's alignment (`MIMEJSON = "application/json"`
    for `MIMEJSON              = "application/json"`): still the same Go, in fewer
    characters."""
    if "\n" in spec:
        return spec
    out: list[str] = []
    last = 0
    for m in STRING_LITERAL.finditer(spec):
        out.append(_ALIGNMENT.sub(" ", spec[last:m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_ALIGNMENT.sub(" ", spec[last:]))
    return "".join(out)


def opens(d: Definition, language: str) -> bool:
    """Return whether a container renders as a head whose body stays open for members (an
    enum shown whole is already closed)."""
    return language in _BRACE_LANGS and render_definition(
        d, language, with_doc=False).rstrip().endswith("{")


def closing(d: Definition, language: str) -> str:
    """Return the line that closes an open container: `}`, and in C and C++ the `;` a
    record's declaration ends with, after its typedef name if it has one."""
    indent = _indent_of(d.signature)
    if language in ("c", "cpp") and d.kind in ("struct", "union", "class", "enum"):
        if d.signature.lstrip().startswith("typedef"):
            return f"{indent}}} {d.type_name or d.name};"
        return f"{indent}}};"
    return indent + "}"


def _declared_inside(parent: Definition, d: Definition) -> bool:
    """Return whether a member is written inside its container's braces (a Go or C++ method
    declared after the type, or a Rust one in an `impl`, is not)."""
    return parent.start_line <= d.start_line and d.end_line <= parent.end_line


def enclosing(containers: Sequence[Definition], d: Definition) -> Definition | None:
    """Return a member's container among those of its container's name: the one whose body
    holds it (TypeScript merges an `interface X` declared twice in a file, and namespaces
    nest same-named interfaces), else the first (a Go method is declared after its type)."""
    for parent in containers:
        if _declared_inside(parent, d):
            return parent
    return containers[0] if containers else None


def _member_indent(container_sig: str, language: str) -> str:
    return _indent_of(container_sig) + indent_unit(language)


def render_file(entry: FileEntry, chosen: Sequence[_Cand],
                groups: dict[int, int] | None = None) -> str:
    """Render the chosen definitions of one file in source order, members inside their
    containers (nested ones, such as an interface in a namespace, inside both), and the
    Go specs of one group in one (`groups`: see `go_groups`, computed when not given)."""
    lang = entry.symbols.language
    brace = lang in _BRACE_LANGS
    containers: dict[str, list[Definition]] = {}
    for c in chosen:
        if c.d.kind in CONTAINER_KINDS:
            containers.setdefault(c.d.name, []).append(c.d)
    ordered = sorted(chosen, key=lambda c: (c.d.start_line, c.d.kind not in CONTAINER_KINDS))
    out: list[str] = []
    open_containers: list[Definition] = []
    if groups is None:
        groups = go_groups(entry.symbols.definitions) if lang == "go" else {}
    open_group = None  # the Go `const ( ... )` group the last piece shows, if any
    last: Definition | None = None
    for c in ordered:
        d = c.d
        group = groups.get(id(d))
        if group is not None and group == open_group:  # the same group: one `const ( ... )`
            if last is None or d.start_line != last.start_line:  # `a, b = 1, 2`: one spec
                doc = f"\t// {d.doc}\n" if c.with_doc and d.doc else ""
                out[-1] = f"{out[-1][:-2]}\n{doc}{_unaligned(d.signature)}\n)"
            last = d
            continue
        open_group, last = group, d
        parent = enclosing(containers.get(d.container, ()), d) if d.container else None
        if parent is not None and not _declared_inside(parent, d):
            parent = None  # shown where it is written: after the type, as the source has it
        while open_containers and open_containers[-1] is not parent:
            closed = open_containers.pop()
            if brace:
                out.append(closing(closed, lang))
        if d.kind in CONTAINER_KINDS:
            out.append(render_definition(d, lang, with_doc=c.with_doc))
            if not brace or opens(d, lang):
                open_containers.append(d)
            continue
        indent = _member_indent(parent.signature, lang) if parent is not None else ""
        bodyless = parent is not None and parent.kind in ("interface", "trait")
        out.append(render_definition(d, lang, with_doc=c.with_doc, member_indent=indent,
                                     bodyless=bodyless))
    if brace:
        out.extend(closing(d, lang) for d in reversed(open_containers))
    if not brace:
        # A Python class shown without doc or members still needs a body to read as code.
        for i, piece in enumerate(out):
            if piece.rstrip().endswith(":") and "\n" not in piece.strip():
                nxt = out[i + 1] if i + 1 < len(out) else ""
                if len(_indent_of(nxt)) <= len(_indent_of(piece)):
                    out[i] = piece + " ..."
    return "\n".join(out) + "\n"
