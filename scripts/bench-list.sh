#!/usr/bin/env bash
# Whole-process timings of `tgsess list --json` beside the Telethon lister of issue 14
# (scripts/telethon_lister.py: each file opened with Telethon's SQLiteSession) on the same
# folders of Telethon-written session files, with ratios and tgsess's peak memory.
# "cold" = no tgsess cache (the page cache stays warm: dropping it needs root).
#
# usage: scripts/bench-list.sh [SIZE...]     (default: 1000 10000; TGSESS_BENCH_100K=1 adds 100000)
#   TGSESS_BIN   the binary (default target/release/tgsess: `cargo build --release` first)
#   TGSESS_VENVS where scripts/setup-venvs.sh put the venvs (default /tmp/fmt/venvs)
#   RUNS         runs per figure, the median is shown (default 5; 100,000 files: 3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BIN="${TGSESS_BIN:-$here/../target/release/tgsess}"
PY="${TGSESS_VENVS:-/tmp/fmt/venvs}/telethon-1.45.0/bin/python"
RUNS="${RUNS:-5}"
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
    sizes=(1000 10000)
    if [ "${TGSESS_BENCH_100K:-}" = 1 ]; then sizes+=(100000); fi
fi
[ -x "$BIN" ] || { echo "error: no tgsess binary at $BIN (cargo build --release, or set TGSESS_BIN)" >&2; exit 1; }
[ -x "$PY" ] || { echo "error: no Telethon venv at $PY: run scripts/setup-venvs.sh" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now_ms() { date +%s%N | awk '{ printf "%.1f", $1 / 1e6 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Runs "$@" once; prints its wall time in ms. Its peak RSS (KiB) goes to $work/rss.
timed() {
    local t0 t1
    t0=$(now_ms)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$work/rss" "$@" > /dev/null
    else
        "$@" > /dev/null; echo 0 > "$work/rss"
    fi
    t1=$(now_ms)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }'
}
export XDG_CACHE_HOME="$work/cache"
# No tgsess cache (an older tgsess kept it in the folder).
uncache() { rm -rf "$work/cache" "$1/.tgsess-list-cache.json"; }

printf "%8s | %10s %10s %10s | %10s %8s | %9s %9s\n" \
    files "cold ms" "warm ms" "telethon" "tel/cold" "cold/warm" "cold RSS" "warm RSS"
for n in "${sizes[@]}"; do
    dir="$work/s$n"
    "$PY" "$here/make_list_folder.py" "$dir" "$n"
    runs=$RUNS; [ "$n" -ge 100000 ] && runs=3
    c=(); for _ in $(seq "$runs"); do uncache "$dir"; c+=("$(timed "$BIN" --dir "$dir" list --json)"); done
    cold_rss=$(cat "$work/rss")
    # Files younger than the racy window are never trusted from the cache: let them age.
    sleep 3.5
    "$BIN" --dir "$dir" list --json > /dev/null
    w=(); for _ in $(seq "$runs"); do w+=("$(timed "$BIN" --dir "$dir" list --json)"); done
    warm_rss=$(cat "$work/rss")
    t=(); for _ in $(seq "$([ "$n" -ge 10000 ] && echo 1 || echo 3)"); do
        t+=("$(timed "$PY" "$here/telethon_lister.py" "$dir")")
    done
    cm=$(printf "%s\n" "${c[@]}" | median)
    wm=$(printf "%s\n" "${w[@]}" | median)
    tm=$(printf "%s\n" "${t[@]}" | median)
    printf "%8s | %10s %10s %10s | %9.1fx %8.1fx | %6.1f MiB %6.1f MiB\n" "$n" "$cm" "$wm" "$tm" \
        "$(awk -v a="$tm" -v b="$cm" 'BEGIN { print a / b }')" \
        "$(awk -v a="$cm" -v b="$wm" 'BEGIN { print a / b }')" \
        "$(awk -v k="$cold_rss" 'BEGIN { print k / 1024 }')" \
        "$(awk -v k="$warm_rss" 'BEGIN { print k / 1024 }')"
    rm -rf "$dir"
done
