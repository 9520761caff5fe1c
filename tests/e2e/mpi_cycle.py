#!/usr/bin/env python3
"""Checkpoint/restart harness for MPI jobs: builds an MPI program plainly (mpicc of the family)
and with autockpt (autockpt-mpicc), runs the instrumented job through chained cycles of
checkpoint, kill -9 of the whole job and the same command again, and compares the output with
the plain job's.  One invocation is one row of the test table (lit-tests/EndToEnd/MPI).

    mpi_cycle.py --config build/bin/autockpt-config --family openmpi --np 3 \\
        lit-tests/EndToEnd/MPI/Inputs/ring.c --args "40 20000" --cycles 3

Nothing here depends on the machine's speed: checkpoints are placed by progress, counted in
polls on every rank (AUTOCKPT_POLL_INTERVAL), or asked for by the program itself (a rank
raises SIGUSR1 at a step: --env AUTOCKPT_ON_SIGNAL=continue and a period in --args); every
interrupted run also halts all its ranks at a poll (AUTOCKPT_HALT_POLL), so it cannot end before
it is killed; and every wait is for an event (a committed generation, an exit), bounded by
--timeout.

What happens:
  1. SOURCE is built plainly and instrumented (same flags).
  2. The plain job runs once: its stdout (the ranks' lines, as the launcher gathers them) and
     status are the reference.  The instrumented job runs once with AUTOCKPT_COUNT_POLLS=yes:
     its output must be the reference's, and the fewest polls any rank passed, T, sizes the
     plan.
  3. --cycles interrupted runs in one checkpoint directory, then one run left to finish.  Each
     interrupted run halts every rank at poll H (drawn at random, H <= T / (cycles + 2), so that
     work is left for the runs after it), and with the progress trigger asks for a checkpoint
     every P polls (P < H); with the program trigger H polls after the run's first checkpoint
     (AUTOCKPT__HALT_AFTER_CHECKPOINT), so that the program always gets to ask.  As soon as a
     new generation is committed (its MANIFEST), every process of the job (the launcher and
     every rank) is killed with SIGKILL at once.
  4. Checks: every restarted run's ranks all said "resuming from checkpoint G" for the newest
     committed generation G; the last run exits 0 with the reference's last line; the runs'
     outputs, concatenated, are the reference with only replays added (each run's lines are a
     contiguous slice of the reference starting no later than where the previous one stopped
     and no earlier than where it started; the last run ends where the reference ends).

--in-process: no kills; one run with checkpoints every P polls; its output must be the
reference's exactly and at least one checkpoint must have been committed.

Prints a PASS/FAIL report; exit status 0 on PASS, 1 on FAIL, 2 on a usage error.  Every process
started is killed before the harness exits.
"""

import argparse
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

POLL_S = 0.01  # how often a running job's checkpoint directory is looked at


def say(msg=""):
    print(msg, flush=True)


def what_went_wrong(err):
    """The lines of a failed run's stderr that say why (errors, signals, the runtime's warnings)
    first, where a FileCheck dump shows them, then its end."""
    key = [l for l in err.splitlines() if re.search(
        r"error|fatal|abort|segmentation|signal \d|core dumped|terminate|warning",
        l, re.I) and " written to " not in l]
    return "\n".join(key[:20]) + "\n--- the end of its stderr:\n" + err[-3000:]


def fail(msg):
    say("FAIL: " + msg)
    sys.exit(1)


def launcher(family, np_):
    if family == "openmpi":
        return ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe", "-np", str(np_)]
    return ["mpiexec.mpich", "-np", str(np_)]


def committed(ckpt):
    if not os.path.isdir(ckpt):
        return []
    return sorted(int(d[4:]) for d in os.listdir(ckpt)
                  if d.startswith("gen-") and os.path.exists(os.path.join(ckpt, d, "MANIFEST")))


def descendants(pid):
    """Every process under pid (and pid), from /proc: the launcher and the ranks it started."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def kill_job(proc):
    """SIGKILL to every process of the job at once (by id, all of them before any reaping)."""
    pids = descendants(proc.pid)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


class Job:
    def __init__(self, args, exe, env, workdir, name):
        self.out_path = os.path.join(workdir, name + ".out")
        self.err_path = os.path.join(workdir, name + ".err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        cmd = launcher(args.family, args.np) + [exe] + shlex.split(args.args)
        if args.family == "openmpi":  # mpirun passes on only what it is told to
            for k in env:
                if k.startswith("AUTOCKPT_") or k in args.env_names:
                    cmd[1:1] = ["-x", k]
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, env=env,
                                     cwd=workdir, start_new_session=True)

    def finish(self):
        self.out.close()
        self.err.close()
        with open(self.out_path) as f:
            out = f.read()
        with open(self.err_path) as f:
            err = f.read()
        return out, err


def run_to_end(args, exe, env, workdir, name):
    job = Job(args, exe, env, workdir, name)
    try:
        rc = job.proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        kill_job(job.proc)
        out, err = job.finish()
        fail(f"{name}: no exit within {args.timeout} s; stderr ends:\n{err[-2000:]}")
    out, err = job.finish()
    return rc, out, err


def lines_of(text, complete_only=False):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif complete_only and lines:
        lines.pop()  # a killed run's last line may be cut short
    return lines


def base_env(args, ckpt, plain=False):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env["AUTOCKPT_DIR"] = ckpt
    env["AUTOCKPT_VERBOSE"] = "2"
    for kv in [] if plain else args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    if args.family == "openmpi":
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    return env


def build(args, workdir):
    config = args.config
    bindir = os.path.dirname(os.path.abspath(config))
    cc = subprocess.run([config, "--cc"], capture_output=True, text=True, check=True).stdout.strip()
    plain = os.path.join(workdir, "plain")
    inst = os.path.join(workdir, "inst")
    flags = shlex.split(args.cflags)
    env = dict(os.environ)
    if args.family == "openmpi":
        env["OMPI_CC"] = cc
        plain_cmd = ["mpicc.openmpi"]
    else:
        env["MPICH_CC"] = cc
        plain_cmd = ["mpicc.mpich"]
    r = subprocess.run(plain_cmd + flags + [args.source, "-o", plain], env=env,
                       capture_output=True, text=True)
    if r.returncode:
        fail("plain build failed:\n" + r.stderr)
    env = dict(os.environ)
    env["AUTOCKPT_MPI_FAMILY"] = args.family
    r = subprocess.run([os.path.join(bindir, "autockpt-mpicc")] + flags +
                       [args.source, "-o", inst], env=env, capture_output=True, text=True)
    if r.returncode:
        fail("instrumented build failed:\n" + r.stderr)
    return plain, inst


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source")
    ap.add_argument("--config", required=True, help="autockpt-config of the build")
    ap.add_argument("--family", choices=["openmpi", "mpich"], required=True)
    ap.add_argument("--np", type=int, default=3)
    ap.add_argument("--args", default="")
    ap.add_argument("--cflags", default="-O2")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--trigger", choices=["progress", "program"], default="progress",
                    help="progress: AUTOCKPT_POLL_INTERVAL on every rank; program: the program "
                         "asks (SIGUSR1 to itself); the runs only halt")
    ap.add_argument("--in-process", action="store_true")
    ap.add_argument("--refuse-np", type=int,
                    help="after the first run is killed, run the job again with this many ranks: "
                         "it must stop with status 70; its messages are printed")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the instrumented runs")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.env_names = {kv.partition("=")[0] for kv in args.env}
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    name = os.path.basename(args.source)
    say(f"{name}: {args.family}, {args.np} ranks, args '{args.args}', seed {seed}")

    workdir = args.workdir or tempfile.mkdtemp(prefix="mpi_cycle.")
    os.makedirs(workdir, exist_ok=True)
    ckpt = os.path.join(workdir, "ckpt")
    shutil.rmtree(ckpt, ignore_errors=True)
    try:
        plain, inst = build(args, workdir)

        rc, ref_out, err = run_to_end(args, plain, base_env(args, ckpt, plain=True), workdir,
                                    "plain")
        if rc != 0:
            fail(f"the plain job exited {rc}:\n{err[-2000:]}")
        ref = lines_of(ref_out)
        env = base_env(args, ckpt)
        env["AUTOCKPT_COUNT_POLLS"] = "yes"
        env["AUTOCKPT_VERBOSE"] = "1"
        rc, out, err = run_to_end(args, inst, env, workdir, "count")
        if rc != 0 or lines_of(out) != ref:
            fail(f"the instrumented job without checkpoints differs from the plain one (exit {rc})"
                 f":\n{out[-1000:]}\n{err[-2000:]}")
        polls = [int(m) for m in re.findall(r"(\d+) polls in this run", err)]
        if len(polls) != args.np:
            fail(f"expected {args.np} poll counts, got {polls}:\n{err[-2000:]}")
        total = min(polls)
        say(f"reference: {len(ref)} lines; polls per rank {polls}")
        shutil.rmtree(ckpt, ignore_errors=True)

        if args.in_process:
            env = base_env(args, ckpt)
            if args.trigger == "progress":
                env["AUTOCKPT_POLL_INTERVAL"] = str(max(1, total // 4))
            rc, out, err = run_to_end(args, inst, env, workdir, "inproc")
            gens = committed(ckpt)
            if rc != 0 or lines_of(out) != ref:
                fail(f"output with checkpoints differs (exit {rc}):\n{out[-1000:]}\n{err[-3000:]}")
            if not gens:
                fail("no checkpoint was committed:\n" + err[-3000:])
            say(f"output identical to the reference ({len(ref)} lines) across {len(gens)} "
                f"checkpoints")
            say(f"PASS: {name}")
            return

        outputs = []
        span = max(4, total // (args.cycles + 2))
        for cycle in range(1, args.cycles + 1):
            before = committed(ckpt)
            halt = rng.randint(span // 2, span)
            tries = 0
            while True:  # again with an earlier halt if the run ended before it (below)
                env = base_env(args, ckpt)
                env["AUTOCKPT_HALT_POLL"] = str(halt)
                plan = f"halt at poll {halt}"
                if args.trigger == "program":
                    # Counted from the run's first checkpoint: a rank halted before the step
                    # where another asks would leave that one waiting for its message forever
                    # (halo.test hung so under load: ranks resume up to three steps apart, and
                    # the halt came before the next asking rank's step).
                    env["AUTOCKPT__HALT_AFTER_CHECKPOINT"] = "1"
                    plan = f"halt {halt} polls after its first checkpoint"
                if args.trigger == "progress":
                    every = rng.randint(max(1, halt // 4), max(1, halt // 2))
                    env["AUTOCKPT_POLL_INTERVAL"] = str(every)
                    plan += f", checkpoint every {every} polls"
                job = Job(args, inst, env, workdir, f"run{cycle}")
                deadline = time.monotonic() + args.timeout
                ended = False
                while True:
                    gens = committed(ckpt)
                    if gens and gens[-1] not in before:
                        break
                    if job.proc.poll() is not None:
                        out, err = job.finish()
                        ended = True
                        break
                    if time.monotonic() > deadline:
                        kill_job(job.proc)
                        out, err = job.finish()
                        fail(f"run {cycle} ({plan}): no new checkpoint within {args.timeout} s:\n"
                             f"{err[-3000:]}")
                    time.sleep(POLL_S)
                if not ended:
                    break
                # Polls are not progress where a rank spins (an Iprobe or Testall loop spins as
                # long as its message takes): every rank may finish the work left in fewer polls
                # than the count sized.  A run that ended well, resumed from the newest
                # generation and taking none, is run again from it with an earlier halt.
                rc = job.proc.returncode
                if rc != 0 or halt <= 1 or tries == 4 or committed(ckpt) != before:
                    fail(f"run {cycle} ({plan}) ended (exit {rc}) before a new checkpoint:\n"
                         f"{err[-3000:]}")
                if cycle > 1:
                    check_resumed(err, args.np, cycle, prev_gen)
                say(f"run {cycle} ({plan}) ended before its halt: the ranks spun fewer polls "
                    f"than counted; again from the same checkpoint with a halt at {halt // 2}")
                completed_marker = os.path.join(ckpt, "COMPLETED")
                if os.path.exists(completed_marker):
                    os.unlink(completed_marker)
                halt //= 2
                tries += 1
            kill_job(job.proc)
            out, err = job.finish()
            gen = committed(ckpt)[-1]
            if cycle > 1:
                check_resumed(err, args.np, cycle, prev_gen)
            outputs.append(lines_of(out, complete_only=True))
            say(f"run {cycle} ({plan}): {len(outputs[-1])} lines, killed by SIGKILL after "
                f"checkpoint {gen}")
            prev_gen = gen
            if args.refuse_np:
                args.np = args.refuse_np
                rc, out, err = run_to_end(args, inst, base_env(args, ckpt), workdir, "refused")
                for line in err.splitlines():
                    if "autockpt" in line:
                        say(line)
                if rc == 0:
                    fail(f"the job of {args.refuse_np} ranks ran from a checkpoint of another size")
                say(f"the job of {args.refuse_np} ranks stopped (exit {rc})")
                say(f"PASS: {name}")
                return

        rc, out, err = run_to_end(args, inst, base_env(args, ckpt), workdir, "final")
        check_resumed(err, args.np, args.cycles + 1, prev_gen)
        outputs.append(lines_of(out))
        if rc != 0:
            fail(f"the last run exited {rc}:\n{what_went_wrong(err)}")
        if not outputs[-1] or outputs[-1][-1] != ref[-1]:
            fail(f"the last run ended with {outputs[-1][-1:]} instead of {ref[-1:]}")
        say(f"run {args.cycles + 1} ended with \"{ref[-1]}\" and exit 0")
        check_same_output(ref, outputs)
        say(f"PASS: {name}")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def check_resumed(err, np_, run, gen):
    said = re.findall(r"rank (\d+): resuming from checkpoint (\d+)", err)
    if np_ == 1:
        said = [("0", g) for g in re.findall(r"resuming from checkpoint (\d+)", err)]
    ranks = {int(r) for r, g in said if int(g) == gen}
    if ranks != set(range(np_)):
        fail(f"run {run}: ranks {sorted(ranks)} of {np_} said they resume from checkpoint {gen}:"
             f"\n{err[-3000:]}")
    say(f"run {run}: all {np_} ranks resumed from checkpoint {gen}")


def check_same_output(ref, outputs):
    """Each run's output is a slice of the reference that starts no earlier than the previous
    run's, the first at the top and the last at the end.  A run may start past the previous
    run's last line: mpirun forwards the ranks' output on its own, and a job killed right after
    a checkpoint can lose lines the ranks printed before it (a run seen printing nothing, or its
    tail missing, while it took checkpoints; seen under load).  A resume from the wrong state
    still shows: the test programs' step lines carry values that depend on every step before
    them, and each run's lines must be the reference's; the resume points are checked by
    generation (check_resumed)."""
    prev_start, prev_end = 0, 0
    for i, lines in enumerate(outputs, 1):
        if not lines:
            continue  # nothing seen: it may have resumed before the last run's end
        starts = [s for s in range(len(ref)) if ref[s:s + len(lines)] == lines]
        ok = [s for s in starts if prev_start <= s] if i > 1 else [0] * (0 in starts)
        if not ok:
            fail(f"run {i}'s output is not the reference's continuation: it starts with "
                 f"{lines[:1]} (the previous run covered lines {prev_start}-{prev_end})")
        within = [s for s in ok if s <= prev_end]  # a replay of the previous run's tail
        start = within[-1] if within else ok[0]
        prev_start, prev_end = start, start + len(lines)
    if prev_end != len(ref):
        fail(f"the runs together end at line {prev_end} of {len(ref)}")
    say(f"outputs together: the reference ({len(ref)} lines), with replays only (and lines a killed job may not have forwarded)")


if __name__ == "__main__":
    main()
