#!/usr/bin/env bash
# Installs everything edgehdc needs on a fresh Debian machine, idempotently:
#   1. Debian packages: the Arm bare-metal toolchain and QEMU;
#   2. a venv (.venv) with torch==2.13.0 (CPU) and the pinned requirements;
#   3. the offline PlatformIO pieces (tool-scons from PyPI's SCons).
# Re-running it is cheap: each step checks a stamp or the installed state.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export PLATFORMIO_CORE_DIR="${PLATFORMIO_CORE_DIR:-$ROOT/.pio-core}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

install_debian() {
  local missing=()
  command -v arm-none-eabi-gcc >/dev/null || missing+=(gcc-arm-none-eabi)
  [ -f /usr/lib/arm-none-eabi/newlib/libc.a ] || [ -d /usr/lib/arm-none-eabi/lib ] || missing+=(libnewlib-arm-none-eabi)
  command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
  [ ${#missing[@]} -eq 0 ] && return
  say "apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm >/dev/null
}

install_venv() {
  local stamp="$VENV/.edgehdc-stamp"
  local want; want="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-nodeps.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return
  say "creating venv in $VENV (torch==2.13.0 CPU + requirements.txt)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  # torch first and explicitly: an unpinned torch would pull a CUDA build.
  "$VENV/bin/pip" install -q torch==2.13.0
  "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt"
  # Packages whose declared bounds lag our pins (see the file): without their deps.
  "$VENV/bin/pip" install -q --no-deps -r "$ROOT/requirements-nodeps.txt"
  # The editable build is chatty on stderr: keep its log, show it only on failure.
  "$VENV/bin/pip" install -q --no-deps -e "$ROOT" >"$VENV/editable-install.log" 2>&1 \
    || { cat "$VENV/editable-install.log"; exit 1; }
  echo "$want" >"$stamp"
}

# PlatformIO runs `python <tool-scons>/scons.py`; its registry is unreachable,
# so the package is assembled from the SCons wheel already in the venv.
install_pio_scons() {
  local pkg="$PLATFORMIO_CORE_DIR/packages/tool-scons"
  [ -f "$pkg/.piopm" ] && return
  say "installing offline PlatformIO tool-scons into $pkg"
  local ver; ver="$("$VENV/bin/python" -c 'import SCons; v=[int(x) for x in SCons.__version__.split(".")[:3]]; print("%d.%d%02d%02d.0" % (v[0], v[0], v[1], v[2]))')"
  mkdir -p "$pkg"
  cat >"$pkg/scons.py" <<'PY'
# Entry point PlatformIO expects; SCons itself comes from the venv (PyPI).
import sys
from SCons.Script.Main import main

if __name__ == "__main__":
    sys.exit(main())
PY
  printf '{"name": "tool-scons", "version": "%s", "description": "SCons from PyPI, packaged offline by edgehdc"}\n' "$ver" >"$pkg/package.json"
  printf '{"type": "tool", "name": "tool-scons", "version": "%s", "spec": {"owner": "platformio", "id": null, "name": "tool-scons", "requirements": null, "uri": null}}\n' "$ver" >"$pkg/.piopm"
}

install_debian
install_venv
install_pio_scons
say "ready: $VENV, PLATFORMIO_CORE_DIR=$PLATFORMIO_CORE_DIR"
