#!/bin/bash
# Runs the lit suite (or a part of it) ROUNDS times in a row, with BUSY processes spinning on the
# CPU the whole time, and stops at the first failure.  How the suite is shown not to depend on
# the machine's speed or load (tests/README.md); run by hand, not in CI.
#
# Usage: tests/soak/suite-under-load.sh [-n ROUNDS] [-b BUSY] [-f FILTER] [BUILD_DIR]
#        (defaults: 5 rounds, 2 busy processes, every test, build/)
# Prints one line per round (time, passed/failed) and exits 0 only if every round passed; the
# lit output of a failed round is kept in BUILD_DIR/soak-round-N.log.
set -u -o pipefail
rounds=5 busy=2 filter=
while getopts "n:b:f:" o; do
  case $o in
    n) rounds=$OPTARG ;;
    b) busy=$OPTARG ;;
    f) filter=$OPTARG ;;
    *) echo "usage: $0 [-n ROUNDS] [-b BUSY] [-f FILTER] [BUILD_DIR]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
build=$(realpath "${1:-build}")
lit=/usr/lib/llvm-19/build/utils/lit/lit.py
[ -d "$build/lit-tests" ] || { echo "no $build/lit-tests: build first (./setup.sh build)" >&2; exit 2; }

pids=()
stop_busy() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_busy EXIT
for _ in $(seq 1 "$busy"); do
  (while :; do :; done) &
  pids+=($!)
done

echo "suite-under-load: $rounds rounds, $busy busy processes, tests: ${filter:-all} ($(nproc) cores)"
for r in $(seq 1 "$rounds"); do
  log=$build/soak-round-$r.log
  t0=$SECONDS
  python3 "$lit" -s ${filter:+--filter "$filter"} "$build/lit-tests" > "$log" 2>&1
  rc=$?
  summary=$(grep -E "^ *(Passed|Failed|Unsupported|Excluded)" "$log" | tr -s ' ' | tr '\n' ' ')
  printf 'round %d: %s in %d s: %s\n' "$r" "$([ $rc -eq 0 ] && echo PASS || echo FAIL)" \
    $((SECONDS - t0)) "$summary"
  if [ $rc -ne 0 ]; then
    grep -E "^  autockpt :: " "$log"
    echo "the failed round's output: $log"
    exit 1
  fi
  rm -f "$log"
done
echo "all $rounds rounds passed"
