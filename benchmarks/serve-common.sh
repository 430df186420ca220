# Sourced by serve-wrk.sh and serve-ab.sh, so both start and warm up a benchmark server the same way.
# Reads WORK (model.zip, requests-*.lua), PORT and SERVE_ARGS.

# start_server BUILD_DIR LOG: starts the sample's `serve` from BUILD_DIR with ctr=$WORK/model.zip on loopback, its
# output in LOG, its process id in SERVER; returns once /health answers, or 1 when the server exits or a minute passes.
start_server() {
    # shellcheck disable=SC2086
    dotnet "$1/Ctr.MLNet.Sample.dll" serve --model "ctr=$WORK/model.zip" --urls "http://127.0.0.1:$PORT" $SERVE_ARGS >"$2" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 120); do
        curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && return 0
        kill -0 "$SERVER" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}

# warm_up URL: 1-row then 100-row requests before anything is measured (JIT, tiered compilation).
warm_up() {
    wrk -t2 -c8 -d5s -s "$WORK/requests-1.lua" "$1" >/dev/null
    wrk -t2 -c8 -d3s -s "$WORK/requests-100.lua" "$1" >/dev/null
}
