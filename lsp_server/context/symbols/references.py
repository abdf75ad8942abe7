"""The identifiers a file uses: what ranks files that name a symbol."""

from __future__ import annotations

import re

from lsp_server.context.names import IDENTIFIER

_IDENT = re.compile(IDENTIFIER.encode())
STOP_WORDS = frozenset(
    b"""and as assert async await break case catch class const continue def default del delete
    do elif else enum except export extends false False final finally fn for from func function
    go if impl implements import in interface is lambda let match mod mut new nil None not null
    or package pass private protected pub public raise return self Self static struct super
    switch this throw true True try type typeof use var void while with yield int str bool
    float string number any char long short unsigned signed double byte""".split()
)


def references_of(src: bytes) -> tuple[str, ...]:
    """Return the distinct identifiers a file uses, without keywords."""
    found = set(_IDENT.findall(src))
    found -= STOP_WORDS
    return tuple(sorted(x.decode("ascii") for x in found if len(x) > 1))

