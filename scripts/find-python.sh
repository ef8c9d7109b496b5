#!/usr/bin/env bash
# Prints the path of a Python that Rasa 3.6 accepts (3.10 preferred, 3.8 and 3.9 accepted).
# Looks at $PYTHON, python3.10 on PATH, pyenv's versions and uv's managed Pythons, in that order.
set -u

accepts() {
  "$1" -c 'import sys; raise SystemExit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)' 2>/dev/null
}

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for v in 3.10 3.9 3.8; do
  command -v "python$v" >/dev/null 2>&1 && candidates+=("$(command -v "python$v")")
  pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
  command -v pyenv >/dev/null 2>&1 && pyenv_root=$(pyenv root)
  for p in "$pyenv_root"/versions/"$v".*/bin/python"$v"; do
    [ -x "$p" ] && candidates+=("$p")
  done
  if command -v uv >/dev/null 2>&1; then
    p=$(uv python find "$v" 2>/dev/null) && candidates+=("$p")
  fi
done

for c in "${candidates[@]}"; do
  # A pyenv shim exists even when the version behind it is not selected: ask it for real.
  if accepts "$c"; then
    "$c" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done

cat >&2 <<'MSG'
No Python 3.10 found (Rasa 3.6 runs on Python 3.8-3.10 only; it refuses 3.11 and later).
Install one, for example:
  pyenv install 3.10.13          (then `make run` finds it under pyenv's versions)
  uv python install 3.10
or point to it explicitly:  PYTHON=/path/to/python3.10 make run
MSG
exit 1
