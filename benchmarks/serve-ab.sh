#!/usr/bin/env bash
# Two or more builds of the sample's `serve` under the same 100-row wrk load, alternated round by round, so each
# build's figures are measured beside the others' on a shared, noisy machine: rows/s and the server's CPU µs per row
# of every run, and the medians per build. Uses the model, data and wrk scripts benchmarks/serve-wrk.sh left in WORK
# (run it once first). Writes benchmarks/results/$NAME.md.
#
#   WORK=/tmp/ctr-serve-bench NAME=serving-ab benchmarks/serve-ab.sh before=/tmp/old-build after=/tmp/ctr-serve-bench/bin
#
# Arguments: LABEL=DIR per build (DIR holds Ctr.MLNet.Sample.dll). Environment: WORK, NAME, ROUNDS (default 3; two
# 10 s runs per build per round), THREADS, CONNECTIONS, PORT, SERVE_ARGS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=serve-common.sh
source "$ROOT/benchmarks/serve-common.sh"
WORK="${WORK:-/tmp/ctr-serve-bench}"
NAME="${NAME:-serving-ab}"
ROUNDS="${ROUNDS:-3}"
THREADS="${THREADS:-4}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18081}"
SERVE_ARGS="${SERVE_ARGS:-}"
RESULT="$ROOT/benchmarks/results/$NAME.md"
URL="http://127.0.0.1:$PORT/ctr/predict"

if [ $# -lt 2 ]; then
    echo "usage: benchmarks/serve-ab.sh LABEL=BUILD_DIR LABEL=BUILD_DIR [...]" >&2
    exit 2
fi
for build in "$@"; do
    if [[ "$build" != *=* || ! -f "${build#*=}/Ctr.MLNet.Sample.dll" ]]; then
        echo "'$build': give LABEL=DIR, DIR holding Ctr.MLNet.Sample.dll (a copy of samples/Ctr.MLNet.Sample/bin/Release/net10.0)" >&2
        exit 2
    fi
done
for file in model.zip requests-1.lua requests-100.lua; do
    if [ ! -f "$WORK/$file" ]; then
        echo "$WORK/$file is missing: run benchmarks/serve-wrk.sh with WORK=$WORK first" >&2
        exit 2
    fi
done

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
RUNS="$(mktemp)"
SERVER=""
trap 'rm -f "$RUNS"; [ -n "$SERVER" ] && kill $SERVER 2>/dev/null || true' EXIT
for round in $(seq "$ROUNDS"); do
    for build in "$@"; do
        label="${build%%=*}"
        if ! start_server "${build#*=}" "$WORK/serve-ab.log"; then
            echo "build '$label' did not start serving on port $PORT (another server there? set PORT); its log:" >&2
            cat "$WORK/serve-ab.log" >&2
            exit 1
        fi
        warm_up "$URL"
        for run in 1 2; do
            before="$(awk '{print $14 + $15}' "/proc/$SERVER/stat")"
            requests="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s "$WORK/requests-100.lua" "$URL" | awk '/Requests\/sec/ {print $2}')"
            after="$(awk '{print $14 + $15}' "/proc/$SERVER/stat")"
            echo "$label $round $run $requests $((after - before)) $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RUNS"
        done
        kill "$SERVER"
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
    done
done

python3 - "$RESULT" "$RUNS" "$LOAD_START" "$*" "$ROUNDS" "$(getconf CLK_TCK)" <<'PY'
import statistics, sys
result, runs, load_start, builds, rounds, ticks = sys.argv[1:]
rows = [line.split() for line in open(runs)]
labels = list(dict.fromkeys(r[0] for r in rows))
def figures(r):
    rps = float(r[3]) * 100
    cpu = int(r[4]) / int(ticks) * 1e6 / (float(r[3]) * 10 * 100)  # server CPU µs per row over the 10 s run
    return rps, cpu
with open(result, 'w') as f:
    f.write('# HTTP serving: builds alternated under the same 100-row load\n\n')
    f.write(f'- Command: `benchmarks/serve-ab.sh {builds}` (ROUNDS={rounds}; per build and round: a fresh server, '
            'serve-wrk.sh\'s warm-up (serve-common.sh), then two 10 s runs of `wrk -t4 -c32` with its 100-row bodies)\n')
    f.write(f'- Load average at start {load_start}; each run\'s is in the table. Server CPU from /proc (user + system).\n\n')
    f.write('| Build | Round | Run | Rows/s | Server CPU µs per row | Load |\n|---|---|---|---|---|---|\n')
    for r in rows:
        rps, cpu = figures(r)
        f.write(f'| {r[0]} | {r[1]} | {r[2]} | {rps:.0f} | {cpu:.2f} | {r[5]} |\n')
    f.write('\n| Build | Median rows/s | Median CPU µs per row | Rows/s against the first build |\n|---|---|---|---|\n')
    base = statistics.median(figures(r)[0] for r in rows if r[0] == labels[0])
    for label in labels:
        mine = [figures(r) for r in rows if r[0] == label]
        median = statistics.median(m[0] for m in mine)
        f.write(f'| {label} | **{median:.0f}** | {statistics.median(m[1] for m in mine):.2f} | {median / base:.2f}× |\n')
print(f'wrote {result}')
PY
