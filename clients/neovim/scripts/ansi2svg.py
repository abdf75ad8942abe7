"""Render a `tmux capture-pane -p -e` dump (truecolor SGR codes) as an SVG image.

Usage: python ansi2svg.py CAPTURE.ansi OUT.svg
"""

from __future__ import annotations

import html
import re
import sys

FG, BG = "#e0e2ea", "#14161b"  # Neovim 0.10+ default colour scheme
CELL_W, CELL_H = 8.4, 18
NBSP = "\u00a0"  # keeps runs of spaces in SVG text
SGR = re.compile(r"(\x1b\[[0-9;]*m)")


Run = tuple[int, str, str, str | None, bool, bool]


def parse(lines: list[str]) -> list[list[Run]]:
    """Split each line into (column, text, fg, bg, bold, struck) runs."""
    fg, bg, bold, struck = FG, None, False, False
    rows = []
    for line in lines:
        runs, col = [], 0
        for part in SGR.split(line):
            match = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
            if not match:
                if part:
                    runs.append((col, part, fg, bg, bold, struck))
                    col += len(part)
                continue
            codes = [int(c) if c else 0 for c in match[1].split(";")]
            i = 0
            while i < len(codes):
                code = codes[i]
                if code == 0:
                    fg, bg, bold, struck = FG, None, False, False
                elif code == 9:
                    struck = True
                elif code == 29:
                    struck = False
                elif code == 1:
                    bold = True
                elif code == 22:
                    bold = False
                elif code == 39:
                    fg = FG
                elif code == 49:
                    bg = None
                elif code in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                    colour = "#{:02x}{:02x}{:02x}".format(*codes[i + 2 : i + 5])
                    fg, bg = (colour, bg) if code == 38 else (fg, colour)
                    i += 4
                i += 1
        rows.append(runs)
    return rows


def render(rows: list[list[Run]], columns: int) -> str:
    """Return the SVG document for parsed rows."""
    width, height = int(columns * CELL_W) + 16, len(rows) * CELL_H + 16
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f'<rect width="100%" height="100%" rx="6" fill="{BG}"/>',
        '<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14">',
    ]
    for r, runs in enumerate(rows):
        y = 8 + r * CELL_H
        for col, text, fg, bg, bold, struck in runs:
            x, w = 8 + col * CELL_W, len(text) * CELL_W
            if bg and bg != BG:
                out.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{CELL_H}" fill="{bg}"/>'
                )
            if text.strip():
                weight = ' font-weight="bold"' if bold else ""
                weight += ' text-decoration="line-through"' if struck else ""
                body = html.escape(text).replace(" ", NBSP)
                out.append(
                    f'<text x="{x:.1f}" y="{y + 13}" fill="{fg}"{weight} '
                    f'textLength="{w:.1f}">{body}</text>'
                )
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    """Convert one capture file."""
    src, dst = argv[1], argv[2]
    with open(src, encoding="utf-8") as fh:
        lines = fh.read().rstrip("\n").split("\n")
    columns = max(len(SGR.sub("", line)) for line in lines)
    with open(dst, "w", encoding="utf-8") as fh:
        fh.write(render(parse(lines), columns))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
