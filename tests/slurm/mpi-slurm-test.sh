#!/bin/bash
# An MPI job under Slurm (MPICH, srun --mpi=pmi2): examples/slurm/job-mpi.sbatch, unchanged, runs
# tests/slurm/mpi_hold.c as 4 ranks on a one-node Slurm on loopback (tests/slurm/cluster.sh).
# When rank 0 waits at step 6 (it says so with a file), the job's ranks get USR1 as they would
# from --signal=USR1@N (scancel --signal=USR1: an event, not a time): every rank checkpoints and
# exits 75, srun returns 75, the script requeues the job; the requeued run (released once the
# program may go on) resumes every rank from the checkpoint and finishes. Checks: the job
# completed after exactly one requeue, the log shows the checkpoint and 4 ranks resuming, the
# generation holds 4 rank images and a MANIFEST, and sim.out equals a plain job's output.
#
# Usage: mpi-slurm-test.sh BUILD_DIR     (as root; exit 77 = skipped: not root, or no MPICH layer)
# Env:   AUTOCKPT_SLURM_TEST_KEEP=1 keeps the temporary directory (it is always kept on failure).
set -u -o pipefail

BUILD=$(realpath "${1:?usage: mpi-slurm-test.sh BUILD_DIR}")
SRC=$(cd "$(dirname "$(realpath "$0")")/../.." && pwd)
T0=$(date +%s)
SLURM_TEST_BUDGET=240
NP=4

say() { printf '[mpi-slurm +%3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
past_deadline() { [ "$(date +%s)" -ge "$DEADLINE" ]; }

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the Slurm test must run as root (it starts slurmctld/slurmd)"; exit 77
fi
KEEP=${AUTOCKPT_SLURM_TEST_KEEP:-}
for v in $(compgen -e | grep -E '^(AUTOCKPT_|SLURM_|SBATCH_|SRUN_|SQUEUE_|PMI_|HYDRA_)'); do unset "$v"; done
"$BUILD/bin/autockpt-config" --mpi-families | grep -qw mpich ||
  { echo "SKIP: this build has no MPICH layer (autockpt-config --mpi-families)"; exit 77; }
command -v mpicc.mpich >/dev/null && command -v mpiexec.mpich >/dev/null || fail "MPICH (mpicc.mpich, mpiexec.mpich) not found"

OK=0; J=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "${D:-}" ]; then
    if [ "$OK" != 1 ]; then
      say "---- diagnostics (everything is in $D) ----"
      [ -n "$J" ] && { echo "== scontrol show job $J"; scontrol show job "$J" 2>&1 | sed 's/^/   /'; }
      for f in "$D/job/job.out" "$D/job/sim.out"; do [ -f "$f" ] && { echo "== $f"; sed 's/^/   /' "$f"; }; done
      slurm_logs
    fi
    slurm_down
    if [ "$OK" = 1 ] && [ -z "$KEEP" ]; then rm -rf "$D"; else say "kept $D"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

# shellcheck source=cluster.sh
. "$SRC/tests/slurm/cluster.sh"

# The program: plain (the reference, with `release` there from the start) and instrumented.
mkdir -p "$D/ref" "$D/job"
mpicc.mpich -O2 "$SRC/tests/slurm/mpi_hold.c" -o "$D/ref/sim" || fail "mpicc.mpich of mpi_hold.c failed"
AUTOCKPT_MPI_FAMILY=mpich "$BUILD/bin/autockpt-mpicc" -O2 "$SRC/tests/slurm/mpi_hold.c" -o "$D/job/sim" ||
  fail "autockpt-mpicc of mpi_hold.c failed"
(cd "$D/ref" && touch release && timeout 120 mpiexec.mpich -np $NP ./sim > ref.out 2> ref.err 9>&-) ||
  fail "the plain job failed: $(tail -3 "$D/ref/ref.err")"
grep -q "^done 12 steps on $NP ranks\$" "$D/ref/ref.out" || fail "the plain job printed: $(tail -1 "$D/ref/ref.out")"

# Submit. This node may have fewer CPUs than the script's ranks: --overcommit (a command-line
# option, so that the script stays the one README shows).
cd "$D/job" || fail "cd $D/job"
J=$(sbatch --parsable --overcommit --output=job.out "$SRC/examples/slurm/job-mpi.sbatch" 9>&-) ||
  fail "sbatch job-mpi.sbatch failed"
say "submitted job-mpi.sbatch as job $J"

until_event() {   # WHAT COMMAND...: until COMMAND succeeds, or fail at the deadline
  local what=$1; shift
  until "$@"; do
    past_deadline && fail "timed out waiting for $what"
    sleep 0.1
  done
}
job_state() { squeue -h -j "$J" -o '%t %r' 2>/dev/null; }

# Run 1: wait until rank 0 holds at step 6, then signal the ranks as Slurm does before the limit.
until_event "rank 0 to hold at step 6 (file holding)" test -e holding
scancel --signal=USR1 "$J" || fail "scancel --signal=USR1 $J failed"
say "rank 0 holds at step 6: USR1 to the job's ranks"
# The script requeues; the requeued job waits for its begin time (~120 s): once the program may
# go on, release it (not in the same second as the requeue, or slurmd refuses the credential).
until_event "the job to be requeued (PD BeginTime)" eval '[ "$(job_state)" = "PD BeginTime" ]'
touch release
sleep 3
scontrol update JobId="$J" StartTime=now || fail "scontrol update StartTime=now failed"
say "requeued; released"
until_event "the job to end" eval '[ -z "$(job_state)" ]'

# Checks.
info=$(scontrol show job "$J")
state=$(grep -o 'JobState=[^ ]*' <<< "$info"); state=${state#*=}
exitc=$(grep -o ' ExitCode=[^ ]*' <<< "$info"); exitc=${exitc#*=}
restarts=$(grep -o 'Restarts=[0-9]*' <<< "$info"); restarts=${restarts#*=}
say "job $J: $state, exit $exitc, $restarts requeue(s)"
problems=()
[ "$state" = COMPLETED ] && [ "$exitc" = 0:0 ] || problems+=("the job did not complete cleanly")
[ "${restarts:-0}" = 1 ] || problems+=("expected exactly 1 requeue, not ${restarts:-0}")
[ "$(grep -c "^checkpoint taken; requeueing job $J" job.out)" = 1 ] ||
  problems+=("the log does not show one checkpoint and requeue (srun did not return 75?)")
resumed=$(grep -c '^autockpt: rank [0-9]*: resuming from checkpoint 1 ' job.out)
[ "$resumed" = $NP ] || problems+=("$resumed ranks said 'resuming from checkpoint', not $NP")
gen=$(ls -d sim.ckpt/gen-* 2>/dev/null | head -1)
[ -n "$gen" ] && [ -f "$gen/MANIFEST" ] && [ "$(ls "$gen"/rank-*.ackpt | wc -l)" = $NP ] ||
  problems+=("no generation with a MANIFEST and $NP rank images in sim.ckpt")
say "sim.out: $(grep -c . sim.out) lines, last: $(tail -1 sim.out)"
cmp -s "$D/ref/ref.out" sim.out ||
  problems+=("sim.out differs from the plain job's output: $(diff "$D/ref/ref.out" sim.out 2>&1 | head -4 | tr '\n' ' ')")
for p in "${problems[@]}"; do say "  FAIL: $p"; done
[ ${#problems[@]} -eq 0 ] || fail "${#problems[@]} check(s) failed"
OK=1
say "PASS: the MPI job checkpointed on USR1, exited 75, requeued, and all $NP ranks resumed to the plain output"
