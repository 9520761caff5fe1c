#!/bin/bash
# The first thing to run: builds examples/count.c with autockpt, runs it with a checkpoint every
# second, kills it with SIGKILL, runs the same command again and shows that it resumes.  Building
# autockpt itself is left to CMake (./setup.sh demo does both).
#
#   examples/demo.sh [BUILD_DIR]      (default: build/ next to examples/)
#
# Exits 0 when the second run resumed and ended with the right sum, 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" 2>/dev/null && pwd) || {
  echo "demo: no build directory ${1:-$root/build}; build autockpt first (./setup.sh demo)" >&2
  exit 1
}
config=$build/bin/autockpt-config
[ -x "$config" ] || { echo "demo: $config is missing; build autockpt first" >&2; exit 1; }
N=15                       # count prints 1..N, one number every 0.2 s, then "sum N(N+1)/2"
want_sum=$((N * (N + 1) / 2))

work=$(mktemp -d "${TMPDIR:-/tmp}/autockpt-demo.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; }
trap cleanup EXIT
cd "$work"
cp "$root/examples/count.c" .

bold=$'\e[1m' plain=$'\e[0m'
[ -t 1 ] || bold='' plain=''
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; }

step "Building count.c with autockpt (in $work)"
cat <<'EOF'
count.c prints 1, 2, 3, ... one number every 0.2 s, then the sum.  It knows nothing about
checkpoints: the compiler plugin and the runtime library add them.
EOF
show "clang -O2 -fpass-plugin=\$(autockpt-config --plugin) count.c \$(autockpt-config --ldflags) -o count"
"$("$config" --cc)" -O2 -fpass-plugin="$("$config" --plugin)" count.c $("$config" --ldflags) -o count

step "Running it with a checkpoint every second"
show "AUTOCKPT_INTERVAL=1 ./count $N"
AUTOCKPT_INTERVAL=1 ./count "$N" > run1.log 2>&1 &
pid=$!
tail -n +1 -s 0.1 -f --pid="$pid" run1.log &
tailer=$!
# Wait for the second checkpoint to be complete (its MANIFEST is written last), then a little
# longer so that the kill lands between two checkpoints, as a real crash would.
for _ in $(seq 200); do
  ls count.ckpt/gen-*/MANIFEST 2>/dev/null | sed -n 2p | grep -q . && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
sleep 0.5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
wait "$tailer" 2>/dev/null || true
last=$(grep -E '^[0-9]+$' run1.log | tail -n 1)
last=${last:-nothing}
printf '\n%s--- killed with SIGKILL after %s ---%s\n' "$bold" "$last" "$plain"

step "The checkpoints it left behind"
show "autockpt list count.ckpt"
"$build/bin/autockpt" list count.ckpt

step "Running the same command again: it resumes from the newest checkpoint"
show "AUTOCKPT_INTERVAL=1 ./count $N"
AUTOCKPT_INTERVAL=1 ./count "$N" 2>&1 | tee run2.log

first=$(grep -m 1 -E '^[0-9]+$' run2.log || true)
sum=$(grep -E '^sum ' run2.log | tail -n 1 || true)
echo
if [ -n "$first" ] && [ "$first" -gt 1 ] && [ "$sum" = "sum $want_sum" ]; then
  echo "${bold}Resumed at $first instead of starting again at 1, and finished with \"$sum\","
  echo "the same result as a run that was never interrupted.${plain}"
  echo "(Numbers after the last checkpoint and before the kill were computed again: a restart"
  echo "continues from the last checkpoint, not from the moment of the kill.)"
  echo "Files are in $work; 'autockpt list $work/count.ckpt' shows the checkpoints."
  exit 0
fi
echo "demo FAILED: the second run began with '${first:-nothing}' (expected a number > 1) and" \
     "ended with '${sum:-nothing}' (expected 'sum $want_sum'); files are in $work" >&2
exit 1
