#!/usr/bin/env bash
# Makes the venvs of the real client libraries that the optional interop tests use as judges
# (tests/store_interop.rs, tests/sandbox_clients.rs): one venv each, the Pyrogram forks clash.
# usage: scripts/setup-venvs.sh [DIR]   (default: $TGSESS_VENVS, else /tmp/fmt/venvs)
set -euo pipefail
VENVS="${1:-${TGSESS_VENVS:-/tmp/fmt/venvs}}"
mkdir -p "$VENVS"
make_venv() { # NAME PACKAGE...
    local name="$1"; shift
    if [ -x "$VENVS/$name/bin/python" ]; then return; fi
    python3 -m venv "$VENVS/$name"
    "$VENVS/$name/bin/pip" install --quiet "$@"
}
make_venv telethon-1.45.0 telethon==1.45.0
make_venv telethon-1.36.0 telethon==1.36.0
make_venv kurigram-2.2.26 kurigram==2.2.26
make_venv pyrofork-2.3.69 pyrofork==2.3.69 tgcrypto
make_venv pyrogram-2.0.106 pyrogram==2.0.106 tgcrypto
make_venv opentele-ng-1.5.0 opentele-ng==1.5.0
echo "venvs ready in $VENVS (tests find them through TGSESS_VENVS, default /tmp/fmt/venvs)"
