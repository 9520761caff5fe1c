#!/bin/sh
# cycle.sh PROG N: one checkpoint/restart cycle of a build-system example (a counter to N).  The
# first run gets SIGUSR1 once it has printed 3 lines and must exit 75 (checkpoint written); the
# second run must finish.  Prints a summary for FileCheck; checkpoints go to $AUTOCKPT_DIR.
# The first run halts at its 6th poll (AUTOCKPT_HALT_POLL), so however fast the machine it is
# still running when the signal comes; the wait for its lines is for an event, bounded at 120 s.
prog=$1 n=$2
out1=$(mktemp) out2=$(mktemp)
trap 'rm -f "$out1" "$out2"' EXIT

AUTOCKPT_HALT_POLL=6 "$prog" "$n" > "$out1" &
pid=$!
tries=0
while [ "$(wc -l < "$out1")" -lt 3 ] && [ "$tries" -lt 2400 ]; do
  sleep 0.05
  tries=$((tries + 1))
done
[ "$tries" -lt 2400 ] || echo "run 1 printed fewer than 3 lines in 120 s"
kill -USR1 "$pid"
wait "$pid"
echo "run 1 exit $?"
"$prog" "$n" > "$out2"
echo "run 2 exit $?"
echo "run 2 first $(head -n 1 "$out2")"
echo "run 2 last $(tail -n 1 "$out2")"
