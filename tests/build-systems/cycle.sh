#!/bin/sh
# cycle.sh PROG N: one checkpoint/restart cycle of a build-system example (a counter to N).  The
# first run gets SIGUSR1 once it has printed 3 lines and must exit 75 (checkpoint written); the
# second run must finish.  Prints a summary for FileCheck; checkpoints go to $AUTOCKPT_DIR.
prog=$1 n=$2
out1=$(mktemp) out2=$(mktemp)
trap 'rm -f "$out1" "$out2"' EXIT

"$prog" "$n" > "$out1" &
pid=$!
tries=0
while [ "$(wc -l < "$out1")" -lt 3 ] && [ "$tries" -lt 100 ]; do
  sleep 0.05
  tries=$((tries + 1))
done
kill -USR1 "$pid"
wait "$pid"
echo "run 1 exit $?"
"$prog" "$n" > "$out2"
echo "run 2 exit $?"
echo "run 2 first $(head -n 1 "$out2")"
echo "run 2 last $(tail -n 1 "$out2")"
