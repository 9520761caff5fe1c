#!/bin/bash
# What CI does, N times in a row: a fresh clone of this repository at COMMIT, `bash .ci/run` in it,
# with BUSY processes spinning on the CPU the whole time; stops at the first failure.  The proof
# that the whole suite holds on an idle and on a loaded machine (tests/README.md); run by hand.
#
# Usage: tests/soak/fresh-clones.sh [-n RUNS] [-b BUSY] [-c COMMIT] [-w WORKDIR] [-o RESULTS]
#        (defaults: 5 runs, 0 busy processes, HEAD, /tmp, WORKDIR/fresh-clones.txt)
# Each run is cloned into WORKDIR/fresh-clone-I (its log: WORKDIR/fresh-clone-I.log) and appends
# one line to RESULTS: exit status, seconds, the suite's summary, the load average.  The clones
# share one ccache through CCACHE_BASEDIR and CCACHE_NOHASHDIR, so only the first run's build is
# cold (a cold build is what CI pays; its time is in the first line).
set -u
runs=5 busy=0 commit=HEAD work=/tmp results=
while getopts "n:b:c:w:o:" o; do
  case $o in
    n) runs=$OPTARG ;;
    b) busy=$OPTARG ;;
    c) commit=$OPTARG ;;
    w) work=$OPTARG ;;
    o) results=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-b BUSY] [-c COMMIT] [-w WORKDIR] [-o RESULTS]" >&2; exit 2 ;;
  esac
done
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse --short "$commit") || exit 2
results=${results:-$work/fresh-clones.txt}
export CCACHE_BASEDIR=/ CCACHE_NOHASHDIR=1

pids=()
stop_busy() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_busy EXIT
for _ in $(seq 1 "$busy"); do
  (while :; do :; done) &
  pids+=($!)
done

for i in $(seq 1 "$runs"); do
  d=$work/fresh-clone-$i
  rm -rf "$d" && git clone -q "$repo" "$d" && git -C "$d" checkout -q "$commit" || exit 2
  start=$SECONDS
  (cd "$d" && bash .ci/run) > "$d.log" 2>&1
  rc=$?
  line="run $i of $runs at $commit, $busy busy: exit $rc, $((SECONDS - start)) s, $(grep -E '^tests: [0-9]+ passed' "$d.log" | tail -1), load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%H:%M)"
  echo "$line" | tee -a "$results"
  [ $rc -eq 0 ] || { echo "run $i failed: $d.log" >&2; exit 1; }
done
