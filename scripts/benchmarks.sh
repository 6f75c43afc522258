#!/usr/bin/env bash
# Runs every benchmark of docs/benchmarks.md with the Release build and writes the document from their JSON output.
# Usage: scripts/benchmarks.sh [output.md]   (default: docs/benchmarks.md). Takes about twenty minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
doc="${1:-docs/benchmarks.md}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dotnet build -c Release src/ZkPow.Cli -v quiet -nologo >&2
zkpow=(dotnet src/ZkPow.Cli/bin/Release/net10.0/zkpow.dll)

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
started="$(date -u +'%Y-%m-%d %H:%M UTC')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+changes')"

# run NAME ARGS...: runs `zkpow ARGS... --json`, keeping the command line and the JSON object it printed.
run() {
  local name="$1"
  shift
  echo "benchmarks: zkpow $* --json" >&2
  printf '%s\n' "zkpow $*" >"$work/$name.cmd"
  "${zkpow[@]}" "$@" --json >"$work/$name.json" 2>"$work/$name.err" || {
    echo "benchmarks: '$name' failed; its log:" >&2
    tail -n 40 "$work/$name.err" >&2
    exit 1
  }
}

run throughput bench --provers 64 --sequences 1000 --max-batches 8 --prover-latency 0ms --seed 1
run jitter bench --provers 16 --sequences 200 --max-batches 8 --prover-latency 50ms --latency-jitter 0.3 --seed 1
run speeds bench --provers 16 --sequences 200 --max-batches 8 --prover-latency 50ms --latency-jitter 0.3 --prover-speeds 1,1,2,4 --seed 1
run polling bench --provers 16 --sequences 200 --max-batches 8 --prover-latency 50ms --latency-jitter 0.3 --no-long-poll --seed 1
run gpus bench --provers 16 --sequences 40 --max-batches 8 --prover-latency 2s --latency-jitter 0.3 --prover-speeds 1,1,2,4 --seed 1
run txs bench txs
run devnet devnet --sequences 100 --provers 8 --max-batches 4 --t1 3 --t2 6 --exit-when-done --data-dir "$work/devnet"
run faults devnet --sequences 100 --provers 8 --max-batches 4 --t1 3 --t2 6 --rpc-faults 0.2 --exit-when-done --timeout 30m --data-dir "$work/faults"

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown)"

WORK="$work" COMMIT="$commit" CPU="$cpu" CORES="$(nproc)" STARTED="$started" LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" \
  node scripts/benchmarks-doc.js >"$doc"
echo "benchmarks: wrote $doc" >&2
