#!/usr/bin/env bash
# HTTP serving benchmark: the sample's `serve` (Release) on loopback with a trained model, loaded by wrk. Three
# scenarios, RUNS times each, medians reported: 1-row requests on CONNECTIONS connections, 100-row requests on
# CONNECTIONS connections, and 1-row requests on 1 connection (latency). Writes benchmarks/results/$NAME.md.
#
#   benchmarks/serve-wrk.sh                                   # defaults below
#   NAME=serving-before BIN=/tmp/old-build benchmarks/serve-wrk.sh   # an earlier build, kept aside
#   SERVE_ARGS="--max-batch-rows 1" benchmarks/serve-wrk.sh  # extra serve options
#
# Environment: WORK (scratch directory, default /tmp/ctr-serve-bench; its data and model are reused when present),
# ROWS (rows generated for the model, default 200000), TRAIN_ARGS (extra train options, e.g. "--networks 1 --trees 0";
# the model is $WORK/model.zip, so give each model its own WORK), THREADS, CONNECTIONS, DURATION, RUNS, PORT, NAME (result
# file), BIN (a built sample directory to run instead of building this tree), SERVE_ARGS, NOTE (a line for the file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=serve-common.sh
source "$ROOT/benchmarks/serve-common.sh"
WORK="${WORK:-/tmp/ctr-serve-bench}"
ROWS="${ROWS:-200000}"
THREADS="${THREADS:-4}"
CONNECTIONS="${CONNECTIONS:-32}"
DURATION="${DURATION:-10s}"
RUNS="${RUNS:-3}"
PORT="${PORT:-18080}"
NAME="${NAME:-serving}"
SERVE_ARGS="${SERVE_ARGS:-}"
NOTE="${NOTE:-}"
TRAIN_ARGS="${TRAIN_ARGS:-}"
RESULT="$ROOT/benchmarks/results/$NAME.md"
COMMAND="THREADS=$THREADS CONNECTIONS=$CONNECTIONS DURATION=$DURATION RUNS=$RUNS ROWS=$ROWS${TRAIN_ARGS:+ TRAIN_ARGS=\"$TRAIN_ARGS\"}${SERVE_ARGS:+ SERVE_ARGS=\"$SERVE_ARGS\"} benchmarks/serve-wrk.sh"

if ! command -v wrk >/dev/null; then
    # A fresh machine has no package lists yet: update them when the install cannot find wrk.
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y wrk || { $SUDO apt-get update && $SUDO apt-get install -y wrk; }
fi

mkdir -p "$WORK"
if [ -z "${BIN:-}" ]; then
    dotnet build -c Release "$ROOT/samples/Ctr.MLNet.Sample" -v quiet -nologo >/dev/null
    # A copy of the build, so a rebuild of the working tree does not swap the binaries under a running server.
    rm -rf "$WORK/bin" && cp -r "$ROOT/samples/Ctr.MLNet.Sample/bin/Release/net10.0" "$WORK/bin"
    BIN="$WORK/bin"
fi
SAMPLE=(dotnet "$BIN/Ctr.MLNet.Sample.dll")

if [ ! -f "$WORK/model.zip" ]; then
    "${SAMPLE[@]}" generate --rows "$ROWS" --out "$WORK/data"
    "${SAMPLE[@]}" train --train "$WORK/data/train.csv" --valid "$WORK/data/test.csv" --model "$WORK/model.zip" --epochs 1 $TRAIN_ARGS
fi

# wrk Lua scripts cycling over bodies made from the first 1000 test rows: one row per request as {"rows": [{...}]},
# and 100 rows per request as {"features": {column: [...]}} (the Python reference's form).
python3 - "$WORK/data/test.csv" "$WORK" <<'PY'
import csv, json, sys
rows = []
with open(sys.argv[1], newline='') as f:
    for i, row in enumerate(csv.DictReader(f)):
        if i == 1000:
            break
        row.pop('click', None)
        out = {}
        for key, value in row.items():
            if value == '':
                out[key] = None
            elif key in ('price', 'age'):
                out[key] = float(value)
            else:
                out[key] = value
        rows.append(out)
def write(path, bodies):
    with open(path, 'w') as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nlocal bodies = {\n')
        for body in bodies:
            f.write('  %s,\n' % json.dumps(body))
        f.write('}\nlocal i = 0\nrequest = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, nil, nil, bodies[i])\nend\n')
        f.write('response = function(status, headers, body)\n  if status ~= 200 then error("HTTP " .. status .. ": " .. body) end\nend\n')
compact = dict(separators=(',', ':'))
write(f'{sys.argv[2]}/requests-1.lua', [json.dumps({'rows': [r]}, **compact) for r in rows])
hundred = []
for start in range(0, 1000, 100):
    chunk = rows[start:start + 100]
    hundred.append(json.dumps({'features': {k: [r[k] for r in chunk] for k in chunk[0]}}, **compact))
write(f'{sys.argv[2]}/requests-100.lua', hundred)
PY

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null || true' EXIT
if ! start_server "$BIN" "$WORK/serve.log"; then
    echo "serve did not start on port $PORT (another server there? set PORT); its log:" >&2
    cat "$WORK/serve.log" >&2
    exit 1
fi
URL="http://127.0.0.1:$PORT/ctr/predict"
warm_up "$URL"
# The server's CPU time (user + system, clock ticks) around each run: CPU per request does not depend on how much of
# the shared cores the server was given, unlike requests per second.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
measure() { # name, wrk arguments...
    local name="$1" before after
    shift
    before="$(cpu_ticks)"
    wrk "$@" --latency "$URL" | tee "$WORK/wrk-$name-$run.txt"
    after="$(cpu_ticks)"
    echo "Server CPU ticks: $((after - before)) at $(getconf CLK_TCK)/s" | tee -a "$WORK/wrk-$name-$run.txt"
}
for run in $(seq 1 "$RUNS"); do
    measure 1row -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/requests-1.lua"
    measure 100row -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/requests-100.lua"
    measure 1conn -t1 -c1 -d"$DURATION" -s "$WORK/requests-1.lua"
done
SERVER_PEAK_KB="$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics.txt" 2>/dev/null || true

python3 - "$RESULT" "$WORK" "$RUNS" "$COMMAND" "$SERVER_PEAK_KB" "$THREADS" "$CONNECTIONS" "$DURATION" "$LOAD_START" "$NOTE" "$TRAIN_ARGS" <<'PY'
import os, re, statistics, sys, datetime
result, work, runs, command, peak_kb, threads, conns, duration, load_start, note, train_args = sys.argv[1:]
def ms(text):
    value, unit = re.match(r'([\d.]+)(us|ms|s)', text).groups()
    return float(value) * {'us': 0.001, 'ms': 1, 's': 1000}[unit]
def parse(name):
    out = []
    for run in range(1, int(runs) + 1):
        text = open(f'{work}/wrk-{name}-{run}.txt').read()
        rps = float(re.search(r'Requests/sec:\s+([\d.]+)', text).group(1))
        p50 = ms(re.search(r'^\s+50%\s+(\S+)', text, re.M).group(1))
        p99 = ms(re.search(r'^\s+99%\s+(\S+)', text, re.M).group(1))
        errors = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
        socket = re.search(r'Socket errors: (.*)', text)
        requests = int(re.search(r'(\d+) requests in', text).group(1))
        ticks, hz = map(int, re.search(r'Server CPU ticks: (\d+) at (\d+)/s', text).groups())
        cpu_us = ticks / hz * 1e6 / max(requests, 1)
        out.append((rps, p50, p99, (errors.group(1) if errors else '0') + (f' ({socket.group(1)})' if socket else ''), cpu_us))
    return out
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
load = ' / '.join(open('/proc/loadavg').read().split()[:3])
with open(result, 'w') as f:
    f.write('# HTTP serving: the sample\'s `serve` under wrk\n\n')
    f.write(f'- Command: `{command}`\n')
    if note:
        f.write(f'- {note}\n')
    f.write(f'- Date (UTC): {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}\n')
    f.write(f'- Machine: {os.cpu_count()} logical cores ({cpu}); server and wrk share them; load average at start {load_start.replace(" ", " / ")}, at end {load}\n')
    f.write('- Server: `Ctr.MLNet.Sample serve` (Release build; serve runs each forward pass on 1 torch thread), the model trained by the sample\'s `train` '
            f'(one epoch{", " + train_args if train_args else ", defaults: 3 networks + 100 trees"}) on `generate` data; peak RSS of the server {int(peak_kb) // 1024} MB\n')
    f.write(f'- Load: `wrk --latency`, {duration} per run, runs interleaved; 1-row requests POST `{{"rows": [{{...}}]}}` (cycling over 1000 test rows), '
            '100-row requests POST `{"features": {column: [100 values]}}` (cycling over the same rows); a warm-up first\n\n')
    for name, title, per in [('1row', f'1-row requests, `-t{threads} -c{conns}`', 1), ('100row', f'100-row requests, `-t{threads} -c{conns}`', 100), ('1conn', '1-row requests, `-t1 -c1`', 1)]:
        rows = parse(name)
        med = lambda i: statistics.median(r[i] for r in rows)
        f.write(f'## {title}\n\n| Run | Requests/s | Rows/s | p50 latency (ms) | p99 latency (ms) | Server CPU µs per request | Server CPU µs per row | Non-2xx |\n|---|---|---|---|---|---|---|---|\n')
        for i, r in enumerate(rows, 1):
            f.write(f'| {i} | {r[0]:.0f} | {r[0] * per:.0f} | {r[1]:.2f} | {r[2]:.2f} | {r[4]:.0f} | {r[4] / per:.1f} | {r[3]} |\n')
        f.write(f'| **median** | **{med(0):.0f}** | **{med(0) * per:.0f}** | **{med(1):.2f}** | **{med(2):.2f}** | **{med(4):.0f}** | **{med(4) / per:.1f}** | |\n\n')
print(open(result).read())
PY
