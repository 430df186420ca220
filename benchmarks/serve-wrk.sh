#!/usr/bin/env bash
# HTTP serving benchmark: the sample's `serve` (Release) on loopback with a trained model, loaded by wrk with
# 1-row JSON predict requests under a bounded load. Writes benchmarks/results/serving.md (see benchmarks/README.md).
#
#   benchmarks/serve-wrk.sh                       # defaults below
#   THREADS=4 CONNECTIONS=32 DURATION=20s RUNS=3 benchmarks/serve-wrk.sh
#
# Environment: WORK (scratch directory, default /tmp/ctr-serve-bench; its data and model are reused when present),
# ROWS (rows generated for the model, default 200000), THREADS, CONNECTIONS, DURATION, RUNS, PORT, NAME (result file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/tmp/ctr-serve-bench}"
ROWS="${ROWS:-200000}"
THREADS="${THREADS:-4}"
CONNECTIONS="${CONNECTIONS:-32}"
DURATION="${DURATION:-20s}"
RUNS="${RUNS:-3}"
PORT="${PORT:-18080}"
NAME="${NAME:-serving}"
RESULT="$ROOT/benchmarks/results/$NAME.md"
COMMAND="THREADS=$THREADS CONNECTIONS=$CONNECTIONS DURATION=$DURATION RUNS=$RUNS ROWS=$ROWS benchmarks/serve-wrk.sh"

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi
fi

mkdir -p "$WORK"
dotnet build -c Release "$ROOT/samples/Ctr.MLNet.Sample" -v quiet -nologo >/dev/null
# A copy of the build, so a rebuild of the working tree does not swap the binaries under a running server.
rm -rf "$WORK/bin" && cp -r "$ROOT/samples/Ctr.MLNet.Sample/bin/Release/net10.0" "$WORK/bin"
SAMPLE=(dotnet "$WORK/bin/Ctr.MLNet.Sample.dll")

if [ ! -f "$WORK/model.zip" ]; then
    "${SAMPLE[@]}" generate --rows "$ROWS" --out "$WORK/data"
    "${SAMPLE[@]}" train --train "$WORK/data/train.csv" --valid "$WORK/data/test.csv" --model "$WORK/model.zip" --epochs 1
fi

# One JSON body per test row (the first 1000): {"rows": [{column: value, ...}]}; wrk's Lua script cycles through them.
python3 - "$WORK/data/test.csv" "$WORK/requests.lua" <<'PY'
import csv, json, sys
bodies = []
with open(sys.argv[1], newline='') as f:
    for i, row in enumerate(csv.DictReader(f)):
        if i == 1000:
            break
        row.pop('click', None)
        out = {}
        for key, value in row.items():
            if value == '':
                out[key] = None
                continue
            try:
                out[key] = float(value) if key in ('price', 'age') else value
            except ValueError:
                out[key] = value
        bodies.append(json.dumps({'rows': [out]}, separators=(',', ':')))
with open(sys.argv[2], 'w') as f:
    f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nlocal bodies = {\n')
    for body in bodies:
        f.write('  %s,\n' % json.dumps(body))
    f.write('}\nlocal i = 0\nrequest = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, nil, nil, bodies[i])\nend\n')
    f.write('response = function(status, headers, body)\n  if status ~= 200 then error("HTTP " .. status .. ": " .. body) end\nend\n')
PY

"${SAMPLE[@]}" serve --model "ctr=$WORK/model.zip" --urls "http://127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.5
done
URL="http://127.0.0.1:$PORT/ctr/predict"
FIRST="$(sed -n '5p' "$WORK/requests.lua" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().rstrip(",")))')"
echo "one request: $(curl -sf -H 'Content-Type: application/json' -d "$FIRST" "$URL")"

wrk -t2 -c8 -d5s -s "$WORK/requests.lua" "$URL" >/dev/null # warm-up (JIT, tiered compilation)
for run in $(seq 1 "$RUNS"); do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/requests.lua" "$URL" | tee "$WORK/wrk-$run.txt"
done
SERVER_PEAK_KB="$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")"

python3 - "$RESULT" "$WORK" "$RUNS" "$COMMAND" "$SERVER_PEAK_KB" "$THREADS" "$CONNECTIONS" "$DURATION" <<'PY'
import os, re, statistics, subprocess, sys, datetime
result, work, runs, command, peak_kb, threads, conns, duration = sys.argv[1:]
def ms(text):
    value, unit = re.match(r'([\d.]+)(us|ms|s)', text).groups()
    return float(value) * {'us': 0.001, 'ms': 1, 's': 1000}[unit]
rows = []
for run in range(1, int(runs) + 1):
    text = open(f'{work}/wrk-{run}.txt').read()
    rps = float(re.search(r'Requests/sec:\s+([\d.]+)', text).group(1))
    p50 = ms(re.search(r'^\s+50%\s+(\S+)', text, re.M).group(1))
    p99 = ms(re.search(r'^\s+99%\s+(\S+)', text, re.M).group(1))
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
    socket = re.search(r'Socket errors: (.*)', text)
    rows.append((rps, p50, p99, (errors.group(1) if errors else '0') + (f' ({socket.group(1)})' if socket else '')))
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
load = open('/proc/loadavg').read().split()[:3]
med = lambda i: statistics.median(r[i] for r in rows)
with open(result, 'w') as f:
    f.write('# HTTP serving: the sample\'s `serve` under wrk\n\n')
    f.write(f'- Command: `{command}`\n')
    f.write(f'- Date (UTC): {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}\n')
    f.write(f'- Machine: {os.cpu_count()} logical cores ({cpu}); server and wrk share them; load average at end {" / ".join(load)}\n')
    f.write('- Server: `Ctr.MLNet.Sample serve` (Release build, default torch threads = the library default, 1), the model trained by the sample\'s `train` '
            f'(one epoch) on `generate` data; peak RSS of the server {int(peak_kb) // 1024} MB\n')
    f.write(f'- Load: `wrk -t{threads} -c{conns} -d{duration} --latency`, each request a POST of one row (`{{"rows": [{{...}}]}}`, cycling over 1000 test rows); '
            'a 5 s warm-up first\n\n')
    f.write('| Run | Requests/s | p50 latency (ms) | p99 latency (ms) | Non-2xx |\n|---|---|---|---|---|\n')
    for i, r in enumerate(rows, 1):
        f.write(f'| {i} | {r[0]:.0f} | {r[1]:.2f} | {r[2]:.2f} | {r[3]} |\n')
    f.write(f'| **median** | **{med(0):.0f}** | **{med(1):.2f}** | **{med(2):.2f}** | |\n')
print(open(result).read())
PY
