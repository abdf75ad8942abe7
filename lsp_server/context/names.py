"""What a name is (`$getRoot` is one), and how names split into words: `getHTTPClient` is
get, HTTP, Client; what a string literal is, which holds no names."""

from __future__ import annotations

import re

# A name in code. `$` is a letter of JavaScript (and Java) names: `$getRoot` and `value$`
# are names of their own, not `getRoot` and `value`.
_START, _PART = "A-Za-z_$", "A-Za-z0-9_$"
IDENTIFIER = rf"[{_START}][{_PART}]*"
LONG_IDENTIFIER = rf"[{_START}][{_PART}]+"  # of two characters or more

# A string literal: quoted on one line, or in backquotes (a Go raw string or a JavaScript
# template, which may span lines).
STRING_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|\'(?:[^\'\\\n]|\\.)*\'')

# An acronym before a capitalised word, a (capitalised) word, an acronym, a number.
_PIECE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def name_pieces(name: str) -> list[str]:
    """Return the CamelCase and snake_case pieces of a name, in order (underscores and other
    characters dropped): `MIMEApplicationJSONCharsetUTF8` -> MIME, Application, JSON,
    Charset, UTF, 8."""
    return _PIECE.findall(name)
