#!/usr/bin/env bash
# Take the next-edit screenshot in a real terminal: Neovim in tmux, the real qwen-lsp, the
# repository's fake endpoint answering as a next-edit model would after a parameter rename.
# Usage: next-edit-screenshot.sh OUT_DIR  (writes next-edit.{txt,svg} and, with chromium,
# next-edit.png). Needs nvim, qwen-lsp and tmux on PATH. Run by tests/e2e/test_neovim.py.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(cd "${1:?usage: $0 OUT_DIR}" && pwd)"
python="${PYTHON:-python3}"
server="${QWEN_LSP_CMD:-qwen-lsp}"
work="$(mktemp -d)"
session="qwen-next-edit-$$"
mkdir -p "$work/ws"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; kill "$ep" 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/ws/geo.py" <<'PY'
def area(width, height):
    """Area of a rectangle."""
    return width * height


def describe(w, h):
    return f'{w} x {h} = {area(w, h)}'
PY
touch "$work/ws/pyproject.toml"
"$python" "$repo/tests/fake_endpoint.py" --port-file "$work/port" --text '' >/dev/null 2>&1 &
ep=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"
cat > "$work/init.lua" <<LUA
vim.opt.runtimepath:prepend('$here')
vim.opt.swapfile = false
vim.opt.number = true
vim.opt.signcolumn = 'yes'
vim.opt.termguicolors = true
vim.opt.statusline = " %f %= %{v:lua.require'qwen'.statusline()} "
require('qwen').setup({
  cmd = vim.split('$server', ' ', { trimempty = true }),
  next_edit = { model = 'qwen-next', format = 'chat', debounce_ms = 0 },
  settings = {
    endpoint = { baseUrl = 'http://127.0.0.1:$port/v1', provider = 'openai', apiKey = 'demo' },
    completion = { model = 'qwen-test' },
  },
})
LUA
# The model's answer once the user has renamed the parameters: the region, finished.
"$python" - "$port" <<'PY'
import json, sys, urllib.request
new = ('def area(w, h):\n    """Area of a rectangle."""\n    return w * h\n\n\n'
       "def describe(w, h):\n    return f'{w} x {h} = {area(w, h)}'\n")
body = json.dumps({"replies": [], "default": {"text": "```python\n" + new + "```\n"}}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/_control/replies", body,
                             {"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()
PY
cd "$work/ws"
tmux -f /dev/null new-session -d -s "$session" -x 64 -y 12 \
  "env TERM=xterm-256color XDG_STATE_HOME=$work/state XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config nvim -u $work/init.lua geo.py"
# Wait for the server, then rename the parameters as one change.
for _ in $(seq 100); do
  tmux capture-pane -t "$session" -p | grep -q 'Qwen' && break
  sleep 0.2
done
tmux send-keys -t "$session" ':1s/width, height/w, h/' Enter
for _ in $(seq 100); do
  tmux capture-pane -t "$session" -p | grep -q 'next edit L' && break
  sleep 0.2
done
sleep 0.3
tmux capture-pane -t "$session" -p > "$out/next-edit.txt"
tmux capture-pane -t "$session" -p -e > "$work/next-edit.ansi"
"$python" "$here/scripts/ansi2svg.py" "$work/next-edit.ansi" "$out/next-edit.svg"
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --screenshot="$out/next-edit.png" \
    --window-size=554,232 "file://$out/next-edit.svg" >/dev/null 2>&1
fi
cat "$out/next-edit.txt"
