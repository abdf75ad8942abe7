#!/usr/bin/env bash
# Take the README's ghost-text screenshot in a real terminal: Neovim in tmux, the real
# qwen-lsp, the repository's fake endpoint. Writes doc/images/ghost-text.{txt,svg} and, when
# chromium is installed, ghost-text.png. Needs nvim, qwen-lsp and tmux on PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
out="$here/doc/images"
mkdir -p "$work/ws" "$out"
trap 'tmux kill-session -t qwen-shot 2>/dev/null || true; kill "$ep" 2>/dev/null || true; rm -rf "$work"' EXIT

printf 'def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    \n\nprint(fibonacci(10))\n' > "$work/ws/fib.py"
touch "$work/ws/pyproject.toml"
"$python" "$repo/tests/fake_endpoint.py" --port-file "$work/port" \
  --text $'if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)' >/dev/null &
ep=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
cat > "$work/init.lua" <<LUA
vim.opt.runtimepath:prepend('$here')
vim.opt.swapfile = false
vim.opt.number = true
vim.opt.termguicolors = true
vim.opt.statusline = " %f %= %{v:lua.require'qwen'.statusline()} "
require('qwen').setup({ settings = {
  endpoint = { baseUrl = 'http://127.0.0.1:$(cat "$work/port")/v1', provider = 'openai', apiKey = 'demo' },
  completion = { model = 'qwen-test' },
} })
LUA
cd "$work/ws"
tmux new-session -d -s qwen-shot -x 72 -y 12 \
  "env TERM=xterm-256color XDG_STATE_HOME=$work/state XDG_DATA_HOME=$work/data nvim -u $work/init.lua fib.py"
sleep 1
tmux send-keys -t qwen-shot 3G
sleep 0.3
tmux send-keys -t qwen-shot A
sleep "${WAIT:-8}"  # server start, indexing, one completion
tmux capture-pane -t qwen-shot -p > "$out/ghost-text.txt"
tmux capture-pane -t qwen-shot -p -e > "$work/ghost-text.ansi"
"$python" "$here/scripts/ansi2svg.py" "$work/ghost-text.ansi" "$out/ghost-text.svg"
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --screenshot="$out/ghost-text.png" \
    --window-size=620,232 "file://$out/ghost-text.svg" 2>/dev/null
fi
cat "$out/ghost-text.txt"
