#!/usr/bin/env bash
# CPU profiles of a Kraal standalone server under one zkbench workload each (node --cpu-prof), summarised by
# bench/cpuprofile-top.mjs (top self-time functions by file:function).
#
#   bench/profile-kraal.sh [--ops "create set"] [--duration 10] [--warmup 3] [--clients 16] [--inflight 32]
#                          [--top 15] [--dir bench/results/profiles-<date>] [--znodes N]
#
# For each op: fresh Kraal (same zoo.cfg as compare-standalone.sh: forceSync=yes, snapCount 100000, ...) with
# --cpu-prof, `zkbench.mjs --op OP` (warm-up + duration), graceful stop (the profile is written at exit), summary.
# op "load" loads --znodes (default 100000) znodes instead; op "restart" profiles a restart on a data dir with
# --znodes znodes (the load is not profiled). The profile covers the whole server life (start, pre-run setup,
# warm-up, measured run, cleanup), so it is dominated by the workload but not exactly it.
# Profiling costs throughput; don't compare these runs' ops/s with unprofiled ones.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BENCH_DIR="$(cd "${BENCH_DIR:-$REPO/../shared/bench}" && pwd)"
OPS="create set"; DUR=10; WARMUP=3; CLIENTS=16; INFLIGHT=32; TOP=15; DIR=""; ZNODES=100000; KPORT=21830
while [ $# -gt 0 ]; do
  case "$1" in
    --ops) OPS="$2"; shift 2;; --duration) DUR="$2"; shift 2;; --warmup) WARMUP="$2"; shift 2;;
    --clients) CLIENTS="$2"; shift 2;; --inflight) INFLIGHT="$2"; shift 2;; --top) TOP="$2"; shift 2;;
    --dir) DIR="$2"; shift 2;; --znodes) ZNODES="$2"; shift 2;; --kraal-port) KPORT="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -n "$DIR" ] || DIR="$HERE/results/profiles-$(date +%F)"
mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"
KSTATE=/tmp/zkbench-kraal-prof
# KRAAL_BUILD=snapshot (default): compile src/ once into bench/.build-prof/dist (immune to concurrent rebuilds of dist/);
# KRAAL_BUILD=repo: run dist/ as it is.
if [ "${KRAAL_BUILD:-snapshot}" = repo ]; then KMAIN="$REPO/dist/src/cli/main.js"; else
  rm -rf "$HERE/.build-prof"; (cd "$REPO" && npx tsc -p . --outDir bench/.build-prof/dist >&2) || echo "tsc reported errors (emitted anyway)" >&2
  KMAIN="$HERE/.build-prof/dist/src/cli/main.js"
fi
KPID=""
fourlw() { local out=""; exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1; printf '%s' "$2" >&3; out=$(timeout 2 cat <&3 || true); exec 3<&- 3>&- || true; printf '%s' "$out"; }
ready() { [ "$(fourlw "$KPORT" ruok 2>/dev/null)" = "imok" ] && fourlw "$KPORT" srvr 2>/dev/null | grep -q '^Mode:'; }
start() { # profdir|"" [reuse]
  [ "${2:-}" = reuse ] || rm -rf "$KSTATE"
  mkdir -p "$KSTATE/data"
  printf '%s\n' tickTime=2000 initLimit=10 syncLimit=5 "dataDir=$KSTATE/data" "clientPort=$KPORT" clientPortAddress=127.0.0.1 \
    maxClientCnxns=0 admin.enableServer=false '4lw.commands.whitelist=*' autopurge.purgeInterval=0 snapCount=100000 forceSync=yes > "$KSTATE/zoo.cfg"
  local flags=""; [ -n "$1" ] && flags="--cpu-prof --cpu-prof-dir=$1"
  # shellcheck disable=SC2086
  nohup node $flags "$KMAIN" server "$KSTATE/zoo.cfg" >> "$KSTATE/kraal.log" 2>&1 < /dev/null &
  KPID=$!
  for _ in $(seq 1 3000); do ready && return 0; kill -0 "$KPID" 2>/dev/null || { tail "$KSTATE/kraal.log" >&2; exit 1; }; sleep 0.2; done
  echo "timeout" >&2; exit 1
}
stop() {
  [ -n "$KPID" ] || return 0
  kill -TERM "$KPID" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$KPID" 2>/dev/null && kill -KILL "$KPID" 2>/dev/null
  wait "$KPID" 2>/dev/null || true; KPID=""
}
trap 'stop; rm -rf "$KSTATE"' EXIT
if (exec 3<>"/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null; then echo "port $KPORT in use" >&2; exit 1; fi

for op in $OPS; do
  pd="$DIR/$op"; rm -rf "$pd"; mkdir -p "$pd"
  case "$op" in
    restart)
      start ""; node "$BENCH_DIR/zkbench.mjs" --connect "127.0.0.1:$KPORT" --op load --znodes "$ZNODES" --size 100 \
        --clients "$CLIENTS" --inflight "$INFLIGHT" --json --quiet | node "$BENCH_DIR/report.mjs" --line
      stop; t0=$(date +%s.%N); start "$pd" reuse
      echo "restart with $ZNODES znodes (profiled): $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
      stop;;
    load)
      start "$pd"
      node "$BENCH_DIR/zkbench.mjs" --connect "127.0.0.1:$KPORT" --op load --znodes "$ZNODES" --size 100 \
        --clients "$CLIENTS" --inflight "$INFLIGHT" --json --quiet --server-pids "$KPID" | node "$BENCH_DIR/report.mjs" --line
      stop;;
    *)
      start "$pd"
      node "$BENCH_DIR/zkbench.mjs" --connect "127.0.0.1:$KPORT" --op "$op" --clients "$CLIENTS" --inflight "$INFLIGHT" \
        --warmup "$WARMUP" --duration "$DUR" --size 100 --cleanup --json --quiet --server-pids "$KPID" | node "$BENCH_DIR/report.mjs" --line
      stop;;
  esac
  echo "### $op"
  node "$HERE/cpuprofile-top.mjs" "$pd"/*.cpuprofile --top "$TOP" --markdown | tee "$pd/top.md"
  echo
done
