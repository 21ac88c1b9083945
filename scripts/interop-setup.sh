#!/usr/bin/env bash
# npm run interop:setup — make the Python environment the interop suite (npm run test:interop) runs
# against: a venv outside the repository holding the pinned packages of interop/requirements.txt,
# at the exact versions of interop/constraints.txt, all from PyPI.
#
# Idempotent: the venv carries a stamp with a hash of both pin files and of the Python version; when
# the stamp matches, nothing is installed and the script returns in well under a second. A changed
# pin (or a half-built venv, which has no stamp) rebuilds the venv from scratch.
#
# Where: $ARMBRIDGE_INTEROP_VENV, else ${XDG_CACHE_HOME:-~/.cache}/armbridge/interop-venv.
# Which Python (>= 3.12, as LeRobot requires): $ARMBRIDGE_INTEROP_PYTHON, else pyenv's 3.12.1,
# else python3.13 / python3.12 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${ARMBRIDGE_INTEROP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/armbridge/interop-venv}"
REQS=interop/requirements.txt
CONSTRAINTS=interop/constraints.txt
STAMP="$VENV/.armbridge-interop-stamp"

find_python() {
  local c
  for c in "${ARMBRIDGE_INTEROP_PYTHON:-}" /root/.pyenv/versions/3.12.1/bin/python "$HOME/.pyenv/versions/3.12.1/bin/python" python3.13 python3.12; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

PYTHON="$(find_python)" || {
  echo "interop:setup: no Python >= 3.12 with the venv module found (set ARMBRIDGE_INTEROP_PYTHON)" >&2
  exit 2
}
PYVER="$("$PYTHON" -c 'import platform; print(platform.python_version())')"
HASH="$( { cat "$REQS" "$CONSTRAINTS"; echo "python $PYVER"; } | sha256sum | cut -d' ' -f1)"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ]; then
  echo "interop:setup: $VENV is up to date (Python $PYVER, pins ${HASH:0:12})"
  exit 0
fi

start=$(date +%s)
echo "interop:setup: building $VENV with Python $PYVER ($PYTHON)"
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv "$VENV"
# PyPI is the only index: the packages, torch and its CUDA runtime wheels included, come from it.
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off -q \
  -r "$REQS" -c "$CONSTRAINTS"
# What is installed must be exactly the lock: a package pip added beyond it fails the setup.
"$VENV/bin/python" - "$CONSTRAINTS" <<'PY'
import sys
from importlib.metadata import distributions
from packaging.utils import canonicalize_name

want = {}
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if line:
        name, version = line.split("==")
        want[canonicalize_name(name)] = version
have = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
have.pop("pip", None)
extra = sorted(set(have) - set(want))
wrong = sorted(n for n in want if have.get(n) != want[n])
if extra or wrong:
    print("interop:setup: installed packages differ from interop/constraints.txt:", file=sys.stderr)
    for n in wrong:
        print(f"  {n}: want {want[n]}, have {have.get(n)}", file=sys.stderr)
    for n in extra:
        print(f"  {n}: {have[n]} is not in the lock", file=sys.stderr)
    sys.exit(1)
print(f"interop:setup: {len(have)} packages match the lock")
PY
echo "$HASH" > "$STAMP"
echo "interop:setup: done in $(( $(date +%s) - start )) s, $(du -sh "$VENV" | cut -f1) on disk"
