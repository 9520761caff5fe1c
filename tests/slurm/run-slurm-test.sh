#!/bin/bash
# End-to-end test of examples/slurm/: runs both job scripts, unchanged, on a one-node Slurm cluster
# on loopback with a 1-minute walltime, so that each job is signalled, checkpoints, exits 75,
# requeues itself and resumes, until the program completes; the output must equal an uninterrupted
# run's. Installs slurm/munge when missing (apt), starts its own munged, slurmctld and slurmd in a
# temporary directory, and stops them on every way out. Leaves the job scripts' logic to them.
#
# Usage: run-slurm-test.sh BUILD_DIR     (as root; exit 77 = skipped, not root)
# Env:   AUTOCKPT_SLURM_TEST_KEEP=1 keeps the temporary directory (it is always kept on failure).
set -u -o pipefail

BUILD=$(realpath "${1:?usage: run-slurm-test.sh BUILD_DIR}")
SRC=$(cd "$(dirname "$(realpath "$0")")/../.." && pwd)
EXAMPLES=$SRC/examples/slurm
T0=$(date +%s)   # DEADLINE (cluster.sh): 480 s for everything once the cluster is up; CTest's TIMEOUT must be larger

# The two scenarios: job script, the walltime options that override its #SBATCH lines.
# --time=1 with @20: slurmctld checks on a 30 s tick and sends the signal at the first tick once
# `remaining <= 20 + 30` s, i.e. 10-40 s into each run; count N (N*0.2 s > 60 s) cannot finish
# within one run, so every job needs at least one checkpoint, requeue and resume.
SCENARIOS=(
  "batch|job-requeue.sbatch|--time=1 --signal=B:USR1@20"
  "srun|job-srun.sbatch|--time=1 --signal=USR1@20"
)

say() { printf '[slurm-test +%3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
past_deadline() { [ "$(date +%s)" -ge "$DEADLINE" ]; }

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the Slurm test must run as root (it installs packages and starts slurmctld/slurmd)"
  exit 77
fi
KEEP=${AUTOCKPT_SLURM_TEST_KEEP:-}
# The jobs inherit our environment: no AUTOCKPT_ settings, and nothing of an enclosing Slurm job.
for v in $(compgen -e | grep -E '^(AUTOCKPT_|SLURM_|SBATCH_|SRUN_|SQUEUE_)'); do unset "$v"; done
CONFIG=$BUILD/bin/autockpt-config
[ -x "$CONFIG" ] && [ -x "$BUILD/bin/autockpt" ] || fail "no $CONFIG or $BUILD/bin/autockpt: build first"
command -v clang-19 >/dev/null || fail "clang-19 not found"

OK=0
diagnose() {
  say "---- diagnostics (everything is in $D) ----"
  local j
  for j in ${JOBS:-}; do
    echo "== scontrol show job $j"; scontrol show job "$j" 2>&1 | sed 's/^/   /'
  done
  echo "== squeue"; squeue 2>&1 | sed 's/^/   /'
  echo "== jobcomp (one record per run; sacct needs accounting storage)"
  cut -c1-300 "$D/log/jobcomp.txt" 2>/dev/null | sed 's/^/   /'
  for f in "$D"/job-*/job.out; do [ -f "$f" ] && { echo "== $f"; sed 's/^/   /' "$f"; }; done
  for f in "$D"/job-*/count.out; do [ -f "$f" ] && echo "== $f: $(wc -l < "$f") lines, $(grep -cx 1 "$f") of them '1', last: $(tail -1 "$f")"; done
  slurm_logs
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "${D:-}" ]; then
    [ "$OK" = 1 ] || diagnose
    [ -n "${REF_PID:-}" ] && { kill "$REF_PID"; wait "$REF_PID"; } 2>/dev/null
    slurm_down
    if [ "$OK" = 1 ] && [ -z "$KEEP" ]; then rm -rf "$D"; else say "kept $D"; fi
    say "cluster stopped; exit $rc"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

# --- 1-3. The cluster (packages, the one-cluster lock, leftovers, munged, slurmctld, slurmd) -------
# shellcheck source=cluster.sh
. "$SRC/tests/slurm/cluster.sh"

# --- 4. The program, and an uninterrupted run of it to compare with --------------------------------
# Both scripts run `./count N` (examples/count.c prints 1..N, one per 0.2 s, then "sum S").
N=$(sed -n 's|^[^#]*\./count \([0-9][0-9]*\).*|\1|p' "$EXAMPLES/job-requeue.sbatch" | head -1)
[ -n "$N" ] && [ "$N" -gt 300 ] || fail "expected './count N' with N > 300 in job-requeue.sbatch (N=$N)"
# shellcheck disable=SC2046  # --ldflags is several words
clang-19 -O2 -fpass-plugin="$("$CONFIG" --plugin)" "$SRC/examples/count.c" $("$CONFIG" --ldflags) \
  -o "$D/count" || fail "building examples/count.c with autockpt failed"
mkdir -p "$D/ref"
(cd "$D/ref" && exec ./../count "$N" > ref.out 2> ref.err 9>&-) &
REF_PID=$!

# --- 5. Submit both jobs; skip the ~120 s requeue delay; wait -------------------------------------
JOBS=""
declare -A NAME SUBMIT_T END_T DIR PD_SINCE TIMELINE LAST
for s in "${SCENARIOS[@]}"; do
  IFS='|' read -r name script opts <<< "$s"
  dir=$D/job-$name; mkdir -p "$dir"; cp "$D/count" "$dir/"
  # shellcheck disable=SC2086  # opts are several words
  j=$(cd "$dir" && sbatch --parsable $opts --output=job.out --job-name="$name" "$EXAMPLES/$script") \
    || fail "sbatch $opts $script failed"
  JOBS="$JOBS $j"; NAME[$j]=$name; DIR[$j]=$dir; SUBMIT_T[$j]=$(date +%s); TIMELINE[$j]=""; LAST[$j]=""
  say "submitted $script $opts as job $j"
done

pending="$JOBS "   # " 12 13 ": each id between spaces
while [ -n "${pending// /}" ]; do
  past_deadline && fail "jobs did not finish within $((DEADLINE - T0)) s (still:$pending)"
  now=$(date +%s)
  for j in $pending; do
    st=$(squeue -h -j "$j" -o '%t %r' 2>/dev/null)
    if [ "$st" != "${LAST[$j]}" ]; then
      TIMELINE[$j]="${TIMELINE[$j]} +$((now - SUBMIT_T[$j]))s:${st:-gone}"; LAST[$j]=$st
    fi
    case "$st" in
      "")  END_T[$j]=$now; pending=${pending/ $j / } ;;
      "PD BeginTime")
        # The requeued job waits ~120 s (credential lifetime); release it, but not in the same
        # second as the requeue or slurmd refuses it ("Job credential revoked") and it FAILS.
        if [ -z "${PD_SINCE[$j]:-}" ]; then PD_SINCE[$j]=$now
        elif [ $((now - PD_SINCE[$j])) -ge 3 ]; then
          scontrol update JobId="$j" StartTime=now; PD_SINCE[$j]=""
        fi ;;
      PD*Held*|PD*launch*|PD*Dependency*) fail "job $j is stuck: $st" ;;
      *)   PD_SINCE[$j]="" ;;
    esac
  done
  sleep 1
done

# --- 6. Checks --------------------------------------------------------------------------------------
while kill -0 "$REF_PID" 2>/dev/null && ! past_deadline; do sleep 1; done
wait "$REF_PID" || fail "the uninterrupted run failed: $(cat "$D/ref/ref.err")"
grep -q "^sum $((N * (N + 1) / 2))\$" "$D/ref/ref.out" || fail "the uninterrupted run printed: $(tail -1 "$D/ref/ref.out")"

ERRORS=0
for j in $JOBS; do
  dir=${DIR[$j]}; log=$dir/job.out
  info=$(scontrol show job "$j")
  state=$(grep -o 'JobState=[^ ]*' <<< "$info"); state=${state#*=}
  exitc=$(grep -o ' ExitCode=[^ ]*' <<< "$info"); exitc=${exitc#*=}
  restarts=$(grep -o 'Restarts=[0-9]*' <<< "$info"); restarts=${restarts#*=}
  out=$dir/count.out   # the scripts send the program's output there (`./count N >> count.out`)
  runs=$(grep -c "^job $j run " "$log")
  requeued=$(grep -c "^checkpoint taken; requeueing job $j" "$log")
  resumed=$(grep -c 'autockpt: resuming from checkpoint' "$log")
  say "job $j (${NAME[$j]}): $state, exit $exitc, $restarts requeues, $runs runs, $((END_T[$j] - SUBMIT_T[$j])) s"
  say "  timeline:${TIMELINE[$j]}"
  problems=()
  [ "$state" = COMPLETED ] && [ "$exitc" = 0:0 ] || problems+=("the job did not complete cleanly")
  [ "${restarts:-0}" -ge 1 ] && [ "$runs" -eq $((restarts + 1)) ] || problems+=("expected at least one requeue and one run per requeue + 1")
  [ "$requeued" -eq $((runs - 1)) ] || problems+=("$requeued checkpoint+requeue lines for $runs runs (every run but the last should have one)")
  [ "$resumed" -eq $((runs - 1)) ] || problems+=("$resumed 'resuming from checkpoint' lines for $runs runs (every run but the first should resume)")
  [ "$(grep -cx 1 "$out" 2>/dev/null)" = 1 ] || problems+=("count.out does not hold '1' exactly once: the program did not resume")
  cmp -s "$D/ref/ref.out" "$out" ||
    problems+=("count.out differs from the uninterrupted run's output: $(diff "$D/ref/ref.out" "$out" 2>&1 | head -4 | tr '\n' ' ')")
  [ -f "$dir/count.ckpt/COMPLETED" ] || problems+=("no count.ckpt/COMPLETED after the last run")
  "$BUILD/bin/autockpt" verify "$dir/count.ckpt" > "$dir/verify.txt" 2>&1 ||
    problems+=("autockpt verify: $(tail -2 "$dir/verify.txt" | tr '\n' ' ')")
  for p in "${problems[@]}"; do say "  FAIL: $p"; done
  ERRORS=$((ERRORS + ${#problems[@]}))
done
[ "$ERRORS" -eq 0 ] || fail "$ERRORS check(s) failed"
OK=1
say "PASS: both job scripts checkpointed, requeued, resumed and completed with the uninterrupted output"
