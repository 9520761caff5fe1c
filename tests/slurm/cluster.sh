# A one-node Slurm 22.05 cluster on loopback for autockpt's tests, sourced by run-slurm-test.sh and
# mpi-slurm-test.sh: installs slurm/munge when missing (apt), takes the one-cluster lock, kills
# what an earlier run killed with SIGKILL left behind, starts its own munged, slurmctld and slurmd
# in a temporary directory D (the cwd from then on), and stops them again (slurm_down, which the
# caller's EXIT trap calls). What the jobs do and how they are judged is the caller's.
#
# The caller defines say() and fail() and, before sourcing, may set SLURM_LOCK_WAIT (seconds to
# wait for another run's cluster to go away; default 600). Sets D, SLURM_CONF, DEADLINE (now +
# SLURM_TEST_BUDGET seconds, default 480, once the cluster is up) and exports PATH with /usr/sbin.
# Needs root.

ID_TAG=autockpt-slurm-test   # in the temp dir's name: how leftovers of these tests are recognised

MUNGED_PID=""; SLURM_PIDS=()   # the daemons we started

# Processes of a run of these tests, recognised by its /tmp/$ID_TAG.* directory: in the executable's
# path (the program; the autockpt runtime re-executes it, so its comm is "exe"), in the command line
# (daemons; batch scripts, run from the spool), or in the cwd of a Slurm process (slurmstepd).
# At the start these are leftovers of an earlier run killed before it could clean up (we hold the
# lock, so no live run owns them); in slurm_down, what is left of ours.
leftovers() {   # [DIR]
  local pat=${1:-/tmp/$ID_TAG.} p what comm
  {
    find /proc -mindepth 2 -maxdepth 2 \( -name exe -o -name cwd \) -lname "*$pat*" 2>/dev/null
    grep -lsaF -- "$pat" /proc/[0-9]*/cmdline
  } | while IFS=/ read -r _ _ p what; do
    [ "$p" = $$ ] && continue
    read -r comm 2>/dev/null < "/proc/$p/comm" || continue
    case $what:$comm in
      exe:*|cwd:slurm*|cwd:munged|cwd:srun|cwd:hydra*) echo "$p" ;;
      cmdline:slurm*|cmdline:munged|cmdline:srun|cmdline:bash|cmdline:runuser) echo "$p" ;;
    esac
  done | sort -un
}

# Stops the jobs, the daemons and anything else of ours; the caller's EXIT trap calls it.
slurm_down() {
  local p
  [ -n "$MUNGED_PID" ] || return 0   # nothing started yet
  # Jobs first (slurmstepd outlives slurmd), then slurm (munge authenticates the shutdown),
  # then munged, then anything left of ours.
  if [ ${#SLURM_PIDS[@]} -gt 0 ]; then
    squeue -h -o %i 2>/dev/null | xargs -r scancel --full 2>/dev/null
    for _ in $(seq 1 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
    scontrol shutdown >/dev/null 2>&1
    for p in "${SLURM_PIDS[@]}"; do
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    kill "${SLURM_PIDS[@]}" 2>/dev/null
  fi
  [ -f "$D/munge/munged.pid" ] && kill "$(cat "$D/munge/munged.pid")" 2>/dev/null
  kill "$MUNGED_PID" 2>/dev/null
  for _ in $(seq 1 30); do p=$(leftovers "$D"); [ -z "$p" ] && break; sleep 0.1; done
  if [ -n "$p" ]; then
    say "killing what is left of ours:"; ps -o pid=,args= -p "${p//$'\n'/,}" | sed 's/^/   /'
    kill -KILL $p 2>/dev/null
  fi
  wait 2>/dev/null
  MUNGED_PID=""
}

slurm_logs() {   # the daemons' logs, for a caller's diagnostics
  echo "== slurmctld.log (tail)"; tail -25 "$D/log/slurmctld.log" 2>/dev/null | sed 's/^/   /'
  echo "== slurmd.log (tail)"; tail -15 "$D/log/slurmd.log" 2>/dev/null | sed 's/^/   /'
  echo "== daemons' stdout/stderr (tail)"; tail -n 3 "$D"/log/*.out 2>/dev/null | sed 's/^/   /'
}

# --- 1. Packages ---------------------------------------------------------------------------------
export PATH=$PATH:/usr/sbin:/sbin
need_install=0
for c in slurmctld slurmd sbatch scontrol squeue srun munged munge unmunge mungekey; do
  command -v "$c" >/dev/null || need_install=1
done
if [ "$need_install" = 1 ]; then
  say "installing slurmctld slurmd slurm-client munge (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=900 \
      slurmctld slurmd slurm-client munge > /tmp/$ID_TAG-apt.log 2>&1 \
    || { tail -20 /tmp/$ID_TAG-apt.log >&2; fail "apt-get install of slurm/munge failed (log: /tmp/$ID_TAG-apt.log)"; }
  for c in slurmctld slurmd sbatch munged mungekey; do
    command -v "$c" >/dev/null || fail "$c still missing after apt-get install"
  done
fi
id munge >/dev/null 2>&1 || fail "no 'munge' user (the munge package creates it)"

# --- 2. One cluster at a time ----------------------------------------------------------------------
# The tests that use a cluster wait for each other (ctest's slurm test and lit's MPI one may run
# at the same time; they need the same ports).
LOCK=/run/lock/$ID_TAG.lock; [ -d /run/lock ] || LOCK=/tmp/$ID_TAG.lock
exec 9>"$LOCK"   # long-lived children get `9>&-`: the lock lives and dies with this script
flock -w "${SLURM_LOCK_WAIT:-600}" 9 ||
  fail "another test's Slurm cluster was still running after ${SLURM_LOCK_WAIT:-600} s (it holds $LOCK)"

stale=$(leftovers)
if [ -n "$stale" ]; then
  say "killing leftovers of an earlier run of this test:"; ps -o pid=,args= -p "${stale//$'\n'/,}"
  kill -KILL $stale 2>/dev/null; sleep 1   # (one pid a line: split on purpose)
fi
other=$(ps -eo pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 ~ /^slurm(ctld|d)(-wlm)?$/ {print $1}' | paste -sd,)
[ -z "$other" ] || fail "a Slurm daemon is already running ($(ps -o pid=,args= -p "$other" | tr '\n' ';')); this test needs ports 6817/6818 for its own cluster: stop that one first"
busy=$(ss -Hltn '( sport = :6817 or sport = :6818 )' 2>/dev/null)
[ -z "$busy" ] || fail "port 6817 or 6818 is in use: $busy"

# --- 3. Cluster (own munged with its own key and socket; slurmctld/slurmd in the foreground) -----
D=$(mktemp -d /tmp/$ID_TAG.XXXXXX) || fail "mktemp"
chmod 755 "$D"
cd "$D" || fail "cd $D"   # the daemons, and so slurmstepd, inherit this cwd: leftovers() finds them by it
mkdir -p "$D/munge" "$D/state" "$D/spool" "$D/log"
export SLURM_CONF=$D/slurm.conf



MSOCK=$D/munge/munge.sock
mungekey --create --keyfile="$D/munge/munge.key" >/dev/null || fail "mungekey"
chown -R munge:munge "$D/munge"; chmod 755 "$D/munge"; chmod 600 "$D/munge/munge.key"
runuser -u munge -- "$(command -v munged)" -F --socket="$MSOCK" --key-file="$D/munge/munge.key" \
  --pid-file="$D/munge/munged.pid" --log-file="$D/munge/munged.log" --seed-file="$D/munge/munged.seed" \
  > "$D/log/munged.out" 2>&1 9>&- &
MUNGED_PID=$!   # runuser's; munged's own is in munged.pid
for _ in $(seq 1 50); do munge -S "$MSOCK" -n 2>/dev/null | unmunge -S "$MSOCK" >/dev/null 2>&1 && break; sleep 0.1; done
munge -S "$MSOCK" -n | unmunge -S "$MSOCK" >/dev/null || fail "munged did not start"

cat > "$SLURM_CONF" <<EOF
# One-node Slurm 22.05 on loopback for autockpt's tests: no systemd, cgroups or accounting.
ClusterName=autockpt-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MSOCK
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
InactiveLimit=0
KillWait=5
MinJobAge=600
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -f "$SLURM_CONF" > "$D/log/slurmctld.out" 2>&1 9>&- &
SLURM_PIDS+=($!)
slurmd -D -f "$SLURM_CONF" -N localhost > "$D/log/slurmd.out" 2>&1 9>&- &
SLURM_PIDS+=($!)
for _ in $(seq 1 150); do [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 0.1; done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || fail "slurm did not come up (sinfo: $(sinfo -h 2>&1))"
say "cluster up in $D ($(nproc) CPUs)"
DEADLINE=$(($(date +%s) + ${SLURM_TEST_BUDGET:-480}))
