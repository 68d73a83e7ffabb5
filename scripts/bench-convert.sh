#!/usr/bin/env bash
# Whole-process batch convert: `tgsess convert` of N Telethon session files in one process
# beside one Telethon process doing the same work, in the same run; prints the medians and
# the ratio (goal: tgsess at least 3x faster). Two targets:
#   telethon-sqlite  each file rewritten as a new Telethon SQLite session (both sides write
#                    durable SQLite files: tgsess's atomic temp + fsync + rename, Telethon's
#                    SQLite commit)
#   telethon-string  each file as a StringSession in a text file (tgsess still writes each
#                    file atomically with fsync; Telethon's script just writes the text)
# usage: scripts/bench-convert.sh [N] [ROUNDS]   (default 1000 files, 5 rounds)
# env:   TGSESS_BIN (default: target/release/tgsess, built when missing),
#        TGSESS_VENVS (default /tmp/fmt/venvs; the telethon-1.45.0 venv is needed)
# Nothing here dials anything: it only reads and writes files in a temp folder.
set -euo pipefail
N="${1:-1000}"
ROUNDS="${2:-5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENVS="${TGSESS_VENVS:-/tmp/fmt/venvs}"
PY="$VENVS/telethon-1.45.0/bin/python"
BIN="${TGSESS_BIN:-$ROOT/target/release/tgsess}"
if [ ! -x "$PY" ]; then
    echo "SKIPPED: no Telethon venv at $VENVS/telethon-1.45.0 (make it with scripts/setup-venvs.sh)"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    (cd "$ROOT" && cargo build --locked --release --bin tgsess)
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/in"
for i in $(seq -w 1 "$N"); do
    cp "$ROOT/tests/fixtures/sessions/telethon_dc2_user.session" "$WORK/in/user$i.session"
done

cat > "$WORK/telethon_convert.py" <<'EOF'
# One process converting every Telethon session of a folder, as a manager built on Telethon
# would: open with SQLiteSession, copy DC, address, port and key into the target.
import os, sys
from telethon.sessions import SQLiteSession, StringSession

src, out, target = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, mode=0o700, exist_ok=True)
for name in sorted(os.listdir(src)):
    if not name.endswith(".session"):
        continue
    s = SQLiteSession(os.path.join(src, name[: -len(".session")]))
    stem = name[: -len(".session")]
    if target == "telethon-sqlite":
        new = SQLiteSession(os.path.join(out, stem))
        new.set_dc(s.dc_id, s.server_address, s.port)
        new.auth_key = s.auth_key
        new.save()
        new.close()
    else:
        text = StringSession.save(s)
        with open(os.path.join(out, stem + ".string"), "w") as f:
            f.write(text + "\n")
        os.chmod(os.path.join(out, stem + ".string"), 0o600)
    s.close()
EOF

now() { date +%s.%N; }
# Seconds one command takes, into a fresh output folder each time. Outputs are only removed
# when the script ends: on ext4 without a journal, every file created within 30 s of a mass
# delete first walks past the inodes just freed (the allocator skips recently deleted ones),
# so an `rm -rf` of the last round's 1,000 outputs before each run made both sides pay a
# cost of the benchmark, not of converting (it was up to half of tgsess's time).
timed() { # OUT CMD...
    local out="$1"; shift
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; exit 1; }
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for target in telethon-sqlite telethon-string; do
    : > "$WORK/tg.txt"; : > "$WORK/py.txt"
    for round in $(seq "$ROUNDS"); do
        tg_out="$WORK/out-tg-$target-$round"; py_out="$WORK/out-py-$target-$round"
        # Interleaved, so that load on the machine weighs on both alike.
        timed "$tg_out" "$BIN" convert "$WORK/in" --to "$target" -o "$tg_out" >> "$WORK/tg.txt"
        timed "$py_out" "$PY" "$WORK/telethon_convert.py" "$WORK/in" "$py_out" "$target" >> "$WORK/py.txt"
    done
    count_tg=$(find "$tg_out" -type f | wc -l)
    count_py=$(find "$py_out" -type f | wc -l)
    if [ "$count_tg" -ne "$N" ] || [ "$count_py" -ne "$N" ]; then
        echo "error: expected $N outputs, got tgsess $count_tg, Telethon $count_py" >&2
        exit 1
    fi
    tg=$(median < "$WORK/tg.txt"); py=$(median < "$WORK/py.txt")
    printf '%s, %s files (median of %s): tgsess %.3f s, Telethon %.3f s, tgsess %.1fx faster (goal: 3x)\n' \
        "$target" "$N" "$ROUNDS" "$tg" "$py" "$(echo "$py / $tg" | bc -l)"
done
