#!/usr/bin/env bash
# Kraal vs Apache ZooKeeper 3.8 standalone, in ONE run on the same machine, with the shared harness
# (zkbench.mjs / suite.sh from ../shared/bench, called in place). The two servers never run at the same time.
#
#   bench/compare-standalone.sh [--quick] [--repeat 1] [--warmup 5] [--duration 10] [--prewarm 10]
#                               [--znodes 1000000] [--only "create set ..."] [--skip-suite] [--skip-load]
#                               [--out bench/results/<date>-standalone.jsonl] [--kraal-port 21830] [--no-report]
#
#   --quick      duration 5 s, warm-up 2 s, pre-warm 4 s, 100,000 znodes (for iteration)
#   --only       passed to suite.sh (e.g. "create set lat-set"); the load phase runs if --only contains "load"
#                or --only is empty
#   BENCH_DIR    where zkbench.mjs/suite.sh live (default: ../shared/bench relative to the repository)
#   KRAAL_BUILD  snapshot (default): compile src/ once into bench/.build/dist and run that, so that rebuilds of dist/
#                by others during the run cannot change (or break) the server under test;
#                repo: run dist/ (bin/kraal.js), compiling it first if any src/*.ts is newer
#   KRAAL_NODE_FLAGS  extra node flags for the Kraal server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
#
# Steps: build Kraal if dist/ is older than src/ -> physlimits -> ZooKeeper (run-zookeeper.sh, -Xmx2g) suite
# -> Kraal (same settings: forceSync=yes, tickTime 2000, maxClientCnxns=0, 4lw *, admin off, snapCount 100000,
# autopurge off) suite on a fresh data dir, --server-pids so CPU/RSS are sampled -> for each server on a FRESH
# data dir: load --znodes (suite.sh --only load), RSS + disk, graceful stop, restart on the same data timed
# until ruok=imok and srvr shows a Mode, RSS after restart. Every result is appended as one JSON line to --out;
# a {"tool":"compare","kind":"run-start"} line opens each run, and bench/report-compare.mjs renders the last run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$REPO/../shared/bench}"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"

REPEAT=1; WARMUP=5; DUR=10; PREWARM=10; ZNODES=1000000; ONLY=""; SKIPSUITE=no; SKIPLOAD=no; QUICK=no
OUT=""; KPORT=21830; REPORT=yes
CMDLINE="bench/compare-standalone.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=yes; WARMUP=2; DUR=5; PREWARM=4; ZNODES=100000; shift;;
    --repeat) REPEAT="$2"; shift 2;; --warmup) WARMUP="$2"; shift 2;; --duration) DUR="$2"; shift 2;;
    --prewarm) PREWARM="$2"; shift 2;; --znodes) ZNODES="$2"; shift 2;; --only) ONLY="$2"; shift 2;;
    --skip-suite) SKIPSUITE=yes; shift;; --skip-load) SKIPLOAD=yes; shift;;
    --out) OUT="$2"; shift 2;; --kraal-port) KPORT="$2"; shift 2;; --no-report) REPORT=no; shift;;
    -h|--help) sed -n '2,22p' "$0"; exit 0;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
mkdir -p "$HERE/results"
[ -n "$OUT" ] || OUT="$HERE/results/$(date +%F)-standalone.jsonl"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT";; esac
KSTATE=/tmp/zkbench-kraal          # Kraal's state (config, data, log); wiped at start and end
ZKLABEL=zk3.8-standalone; KLABEL=kraal-standalone
KPID=""
log() { echo "[compare $(date +%T)] $*" >&2; }

# ---------- helpers ----------------------------------------------------------------------------------------
fourlw() { # port cmd -> reply (bash /dev/tcp; nc may be absent)
  local out=""
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf '%s' "$2" >&3
  out=$(timeout 2 cat <&3 || true)
  exec 3<&- 3>&- || true
  printf '%s' "$out"
}
ready() { [ "$(fourlw "$1" ruok 2>/dev/null)" = "imok" ] && fourlw "$1" srvr 2>/dev/null | grep -q '^Mode:'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
rss_of() { ps -o rss= -p "$1" 2>/dev/null | tr -d ' '; }
disk_json() { # dir -> generic on-disk accounting (works for ZooKeeper's version-2/ and Kraal's flat layout)
  local d="$1" snaps logs
  snaps=$(find "$d" -type f -name 'snapshot.*' | sort)
  logs=$(find "$d" -type f -name 'log.*' | sort)
  local latest=""; [ -n "$snaps" ] && latest=$(ls -1t $snaps | head -1)
  printf '{"dir":"%s","dir_apparent_bytes":%s,"dir_allocated_bytes":%s,"latest_snapshot_bytes":%s,"snapshots":%s,"snapshots_bytes":%s,"txnlogs":%s,"txnlogs_apparent_bytes":%s,"txnlogs_allocated_bytes":%s}' "$d" \
    "$(du -sb "$d" | cut -f1)" "$(du -s -B1 "$d" | cut -f1)" "$( [ -n "$latest" ] && stat -c %s "$latest" || echo 0)" \
    "$(printf '%s' "$snaps" | grep -c . || true)" "$( [ -n "$snaps" ] && cat $snaps | wc -c || echo 0)" \
    "$(printf '%s' "$logs" | grep -c . || true)" "$( [ -n "$logs" ] && du -cb $logs | tail -1 | cut -f1 || echo 0)" \
    "$( [ -n "$logs" ] && du -c -B1 $logs | tail -1 | cut -f1 || echo 0)"
}
emit() { echo "$1" >> "$OUT"; echo "$1" >&2; }

# ---------- Kraal build/start/stop ---------------------------------------------------------------------------------
kraal_build() { # -> path of the CLI entry to run
  if [ "${KRAAL_BUILD:-snapshot}" = repo ]; then
    if [ ! -f "$REPO/dist/src/cli/main.js" ] || [ -n "$(find "$REPO/src" -name '*.ts' -newer "$REPO/dist/src/cli/main.js" | head -1)" ]; then
      log "building Kraal (npx tsc -p .)"; (cd "$REPO" && npx tsc -p . >&2) || log "tsc reported errors (emitted anyway)"
    fi
    echo "$REPO/dist/src/cli/main.js"
  else
    log "compiling a private snapshot of src/ into bench/.build/dist (npx tsc -p . --outDir bench/.build/dist)"
    rm -rf "$HERE/.build"
    (cd "$REPO" && npx tsc -p . --outDir bench/.build/dist >&2) || log "tsc reported errors (emitted anyway)"
    echo "$HERE/.build/dist/src/cli/main.js"
  fi
}
kraal_start() { # [reuse] -> sets KPID; waits until ruok=imok and srvr shows Mode; prints seconds taken
  if [ "${1:-}" != reuse ]; then rm -rf "$KSTATE"; fi
  mkdir -p "$KSTATE/data"
  cat > "$KSTATE/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$KSTATE/data
clientPort=$KPORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
autopurge.purgeInterval=0
snapCount=100000
forceSync=yes
EOF
  local t0; t0=$(now)
  # shellcheck disable=SC2086
  nohup node ${KRAAL_NODE_FLAGS:-} "$KMAIN" server "$KSTATE/zoo.cfg" --log-level info \
    >> "$KSTATE/kraal.log" 2>&1 < /dev/null &
  KPID=$!
  local deadline=$(( $(date +%s) + 600 ))
  until ready "$KPORT"; do
    kill -0 "$KPID" 2>/dev/null || { log "Kraal (pid $KPID) died; tail of $KSTATE/kraal.log:"; tail -20 "$KSTATE/kraal.log" >&2; exit 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { log "timeout waiting for Kraal"; exit 1; }
    sleep 0.2
  done
  KSTART_S=$(elapsed "$t0")
  log "Kraal pid $KPID on 127.0.0.1:$KPORT ready in ${KSTART_S}s ($(fourlw "$KPORT" srvr | grep -E '^(Zookeeper version|Mode)' | tr '\n' ' '))"
}
kraal_stop() { # graceful: SIGTERM, wait up to 60 s, then SIGKILL (only the pid we started)
  [ -n "$KPID" ] || return 0
  if kill -0 "$KPID" 2>/dev/null; then
    kill -TERM "$KPID" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$KPID" 2>/dev/null; then log "KILL Kraal $KPID"; kill -KILL "$KPID" 2>/dev/null || true; fi
  fi
  wait "$KPID" 2>/dev/null || true
  KPID=""
}
ZK_RUNNING=no
zk_start() { # [--reuse] -> CONNECT PIDS DATADIRS STARTUP_S; sets ZSTART_S (our own wall clock, same as Kraal's)
  local t0 out; t0=$(now)
  out="$("$BENCH_DIR/run-zookeeper.sh" standalone --heap 2g "$@")"; eval "$out"
  ZSTART_S=$(elapsed "$t0"); ZK_RUNNING=yes
}
zk_stop() { [ "$ZK_RUNNING" = yes ] && "$BENCH_DIR/stop-zookeeper.sh" "$@" >/dev/null 2>&1; ZK_RUNNING=no; return 0; }
cleanup() {
  kraal_stop
  zk_stop --wipe
  rm -rf "$KSTATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

suite() { # label connect pids datadirs
  "$BENCH_DIR/suite.sh" --connect "$2" --label "$1" --out "$OUT" --server-pids "$3" --data-dirs "$4" \
    --repeat "$REPEAT" --warmup "$WARMUP" --duration "$DUR" --prewarm "$PREWARM" --skip-load ${ONLY:+--only "$ONLY"}
}
load_and_restart() { # label connect pid datadir restart-fn stop-fn
  local label="$1" connect="$2" pid="$3" dir="$4"
  "$BENCH_DIR/suite.sh" --connect "$connect" --label "$label" --out "$OUT" --server-pids "$pid" \
    --data-dirs "$dir" --only load --znodes "$ZNODES" --prewarm 0
  emit "{\"tool\":\"compare\",\"kind\":\"post-load\",\"label\":\"$label\",\"znodes\":$ZNODES,\"pid\":$pid,\"rss_kb\":$(rss_of "$pid"),\"disk\":$(disk_json "$dir"),\"at\":\"$(date -Is)\"}"
  # wait for a background snapshot to finish before stopping (a stop in the middle of one is not what we time)
  sleep 3
  local s0; s0=$(now)
  $6; local stop_s; stop_s=$(elapsed "$s0")
  $5
  local start_s; [ "$label" = "$ZKLABEL" ] && start_s=$ZSTART_S && pid=${PIDS%%,*}
  [ "$label" = "$KLABEL" ] && start_s=$KSTART_S && pid=$KPID
  local n; n=$(fourlw "${connect##*:}" srvr | sed -n 's/^Node count: //p')
  emit "{\"tool\":\"compare\",\"kind\":\"restart\",\"label\":\"$label\",\"znodes\":$ZNODES,\"stop_s\":$stop_s,\"restart_to_serving_s\":$start_s,\"node_count_after_restart\":${n:-null},\"rss_kb_after_restart\":$(rss_of "$pid"),\"disk\":$(disk_json "$dir"),\"at\":\"$(date -Is)\"}"
}

# ---------- run ----------------------------------------------------------------------------------------------
KMAIN=$(kraal_build)
for p in 21810 "$KPORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is already in use; stop that server first" >&2; exit 1; fi
done

[ -f "$KMAIN" ] || { echo "no Kraal build at $KMAIN" >&2; exit 1; }
GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(cd "$REPO" && git status --porcelain -- src 2>/dev/null | wc -l)
emit "{\"tool\":\"compare\",\"kind\":\"run-start\",\"command\":\"$CMDLINE\",\"quick\":$([ $QUICK = yes ] && echo true || echo false),\"repeat\":$REPEAT,\"warmup_s\":$WARMUP,\"duration_s\":$DUR,\"prewarm_s\":$PREWARM,\"znodes\":$ZNODES,\"only\":\"$ONLY\",\"git\":\"$GIT_REV\",\"dirty_src_files\":$GIT_DIRTY,\"node\":\"$(node -v)\",\"java\":\"$(java -version 2>&1 | head -1 | tr -d '"')\",\"cpus\":$(nproc),\"mem_kb\":$(awk '/MemTotal/{print $2}' /proc/meminfo),\"kernel\":\"$(uname -r)\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"at\":\"$(date -Is)\"}"

log "physlimits"
phys=$(node "$BENCH_DIR/physlimits.mjs" --json | tail -1); echo "$phys" >> "$OUT"; echo "$phys" >&2

if [ "$SKIPSUITE" = no ]; then
  log "ZooKeeper suite"
  "$BENCH_DIR/stop-zookeeper.sh" --wipe >/dev/null 2>&1 || true
  zk_start
  suite "$ZKLABEL" "$CONNECT" "$PIDS" "$DATADIRS"
  zk_stop --wipe

  log "Kraal suite"
  kraal_start
  suite "$KLABEL" "127.0.0.1:$KPORT" "$KPID" "$KSTATE/data"
  kraal_stop
  rm -rf "$KSTATE"
fi

if [ "$SKIPLOAD" = no ] && { [ -z "$ONLY" ] || [[ " $ONLY " == *" load "* ]]; }; then
  log "ZooKeeper: load $ZNODES znodes on a fresh server, then restart"
  zk_start
  load_and_restart "$ZKLABEL" "$CONNECT" "${PIDS%%,*}" "${DATADIRS%%,*}" "zk_start --reuse" zk_stop
  zk_stop --wipe

  log "Kraal: load $ZNODES znodes on a fresh server, then restart"
  kraal_start
  load_and_restart "$KLABEL" "127.0.0.1:$KPORT" "$KPID" "$KSTATE/data" "kraal_start reuse" kraal_stop
  kraal_stop
  rm -rf "$KSTATE"
fi
emit "{\"tool\":\"compare\",\"kind\":\"run-end\",\"at\":\"$(date -Is)\"}"

if [ "$REPORT" = yes ]; then node "$HERE/report-compare.mjs" "$OUT" --command "$CMDLINE"; fi
