# Sourced by scripts/test and scripts/demo: make .venv with the project installed
# (editable, with the dev extras) and put it first on PATH. Needs bash, set -euo pipefail.

venv_ok() {
  [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1
}

ensure_venv() {
  if ! venv_ok; then
    rm -rf .venv
    if ! python3 -m venv .venv >/dev/null 2>&1 || ! venv_ok; then
      # Debian's python3 needs python3-venv (ensurepip) for this.
      echo "python3 -m venv failed; installing python3-venv with apt-get" >&2
      rm -rf .venv
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      python3 -m venv .venv
    fi
  fi
  # Reinstall only when pyproject.toml changed: the editable install follows src/.
  local stamp=.venv/.imapclient-dev-installed
  local wanted
  wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    echo "$wanted" >"$stamp"
  fi
  export PATH="$PWD/.venv/bin:$PATH"
}
