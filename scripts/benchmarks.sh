#!/usr/bin/env bash
# Runs every benchmark of docs/benchmarks.md with the Release build and writes the document from their JSON output.
# Usage: scripts/benchmarks.sh [output.md]   (default: docs/benchmarks.md). Takes about twenty minutes.
#        scripts/benchmarks.sh --only postgres [output.md]   runs only the "PostgreSQL and replicas" section and writes
#        a page with that section alone (default output: stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
only=""
if [ "${1:-}" = "--only" ]; then
  only="${2:?--only needs a section: postgres}"
  [ "$only" = "postgres" ] || { echo "benchmarks: unknown section '$only' (known: postgres)" >&2; exit 2; }
  shift 2
  doc="${1:-/dev/stdout}"
else
  doc="${1:-docs/benchmarks.md}"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dotnet build -c Release src/ZkPow.Cli -v quiet -nologo >&2
zkpow=(dotnet src/ZkPow.Cli/bin/Release/net10.0/zkpow.dll)

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
started="$(date -u +'%Y-%m-%d %H:%M UTC')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+changes')"

# run NAME ARGS...: runs `zkpow ARGS... --json`, keeping the command line and the JSON object it printed.
# With RUN_ENV="VAR=value" the variable is set for that run and written before the command line.
run() {
  local name="$1"
  shift
  local prefix="${RUN_ENV:+$RUN_ENV }"
  echo "benchmarks: ${prefix}zkpow $* --json" >&2
  printf '%s\n' "${prefix}zkpow $*" >"$work/$name.cmd"
  env ${RUN_ENV:-} "${zkpow[@]}" "$@" --json >"$work/$name.json" 2>"$work/$name.err" || {
    echo "benchmarks: '$name' failed; its log:" >&2
    tail -n 40 "$work/$name.err" >&2
    exit 1
  }
}

if [ -z "$only" ]; then
  run throughput bench --provers 64 --sequences 1000 --max-batches 8 --prover-latency 0ms --seed 1
  # The same with .NET's default profile-guided re-compilation, which zkpow's runtimeconfig turns off.
  RUN_ENV="DOTNET_TieredPGO=1" run throughput_pgo bench --provers 64 --sequences 1000 --max-batches 8 --prover-latency 0ms --seed 1
  run jitter bench --provers 16 --sequences 200 --max-batches 8 --prover-latency 50ms --latency-jitter 0.3 --seed 1
  run cold bench --provers 16 --sequences 200 --max-batches 8 --prover-latency 50ms --latency-jitter 0.3 --no-warm-up --seed 1
  run speeds bench --provers 16 --sequences 200 --max-batches 8 --prover-latency 50ms --latency-jitter 0.3 --prover-speeds 1,1,2,4 --seed 1
  run polling bench --provers 16 --sequences 200 --max-batches 8 --prover-latency 50ms --latency-jitter 0.3 --no-long-poll --seed 1
  run gpus bench --provers 16 --sequences 40 --max-batches 8 --prover-latency 2s --latency-jitter 0.3 --prover-speeds 1,1,2,4 --seed 1
  run txs bench txs
  run devnet devnet --sequences 100 --provers 8 --max-batches 4 --t1 3 --t2 6 --exit-when-done --data-dir "$work/devnet"
  run faults devnet --sequences 100 --provers 8 --max-batches 4 --t1 3 --t2 6 --rpc-faults 0.2 --exit-when-done --timeout 30m --data-dir "$work/faults"
fi
# PostgreSQL and replicas: the same bench on durable SQLite and on a throwaway durable PostgreSQL cluster (fsync=on,
# synchronous_commit=on) with 1, 2 and 3 replicas sharing the work.
run store_sqlite bench --provers 64 --sequences 300 --max-batches 8 --prover-latency 0ms --seed 1 --store sqlite
run store_sqlite_wait bench --provers 64 --sequences 300 --max-batches 8 --prover-latency 0ms --seed 1 --store sqlite --claim-before-send
run store_pg1 bench --provers 64 --sequences 300 --max-batches 8 --prover-latency 0ms --seed 1 --store postgres --replicas 1
run store_pg2 bench --provers 64 --sequences 300 --max-batches 8 --prover-latency 0ms --seed 1 --store postgres --replicas 2
run store_pg3 bench --provers 64 --sequences 300 --max-batches 8 --prover-latency 0ms --seed 1 --store postgres --replicas 3

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown)"

ONLY="$only" WORK="$work" COMMIT="$commit" CPU="$cpu" CORES="$(nproc)" STARTED="$started" LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" \
  node scripts/benchmarks-doc.js >"$doc"
echo "benchmarks: wrote $doc" >&2
