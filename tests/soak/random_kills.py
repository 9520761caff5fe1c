#!/usr/bin/env python3
"""Random kill campaign (issue 12): kill -9 at uniformly random moments across the project's own
end-to-end test programs, three chained restarts per chain, by hand, not in CI.

Every program of lit-tests/EndToEnd/Core/Inputs, examples/count.c and tests/programs (those that
can be restored) is built plainly and with autockpt (tests/e2e/ckpt_cycle.py's build), with
arguments that make a run last well under two seconds.  The plain run is the reference, and one
uninterrupted instrumented run (AUTOCKPT_INTERVAL=--interval) measures the runtime T.  A chain
then runs the instrumented program in a fresh directory, kills it with SIGKILL after a delay drawn
uniformly from [0, T], runs the same command again, three times, and lets the last run finish.
Each chain must end with the reference's output: judged as ckpt_cycle.py --same-output does (each
run's lines are a slice of the reference that starts where an earlier run's checkpoint left off:
lines printed after the checkpoint and before the kill appear twice), with the last run's status
and, for the file programs, output files identical to the plain run's.

Where each kill landed, from the checkpoint directory and the run's output at the kill:
  writing    a gen-* directory without MANIFEST, or a *.tmp file, that the run created
  restoring  a restarted run that had not yet said "resuming from checkpoint"
  exit       the run had printed all of the reference's lines (or left COMPLETED)
  compute    anything else (a first run before its first line included)
A delay longer than the run is no kill (the run finished): it does not count toward --kills.

    python3 tests/soak/random_kills.py --config build/bin/autockpt-config --kills 1000 --jobs 2
"""

import argparse
import collections
import concurrent.futures
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
import ckpt_cycle  # noqa: E402  (building, running, and judging chained runs)

CORE = "lit-tests/EndToEnd/Core/Inputs/"
PROGRAMS = "tests/programs/"
# (source, arguments, output files to compare).  in.txt is made by tests/programs/lines.py.
# Left out: tests/programs/tmpfile.c (its tmpfile cannot be restored, by design: F3), grow.c and
# variables.c (they send themselves the checkpoint signal, which kills their plain builds), and
# Core/Inputs/stack.c (its 256 MiB stack array makes every checkpoint take about a second here,
# so at AUTOCKPT_INTERVAL=0.05 a run lasts minutes).
TABLE = [
    ("examples/count.c", "4", []),
    (CORE + "argenv.c", "label 6", []),
    (CORE + "callbacks.c", "5", []),
    (CORE + "ctors.cpp", "12", []),
    (CORE + "cxx.cpp", "2", []),
    (CORE + "exit-handlers.cpp", "10", []),
    (CORE + "heap.c", "8", []),
    (CORE + "recursion.c", "1", []),
    (CORE + "setjmp.c", "2", []),
    (CORE + "strings.cpp", "20", []),
    (CORE + "tls.c", "3", []),
    (CORE + "varargs.c", "3", []),
    (PROGRAMS + "files.c", "in.txt out.txt 6 1000", ["out.txt", "out.txt.log"]),
    (PROGRAMS + "fstream.cpp", "in.txt out.txt 6 800", ["out.txt", "out.txt.sum"]),
    (PROGRAMS + "rng.c", "6 100000", []),
]


class Program:
    """One row of TABLE, built, with its reference output and measured runtime."""

    def __init__(self, config, source, argv, compare, work):
        self.source, self.compare = source, compare
        self.name = os.path.basename(source)
        self.work = work
        os.makedirs(work)
        self.input = os.path.join(work, "in.txt")
        with open(self.input, "w") as f:
            subprocess.run([sys.executable, os.path.join(SRC, PROGRAMS + "lines.py"), "100"],
                           stdout=f, check=True)
        self.h = ckpt_cycle.parse_args(["--config", config, os.path.join(SRC, source), "-O2",
                                        "--args", argv, "--same-output", "--expect-final"])
        self.plain, self.exe = ckpt_cycle.build(self.h, work)
        self.argv = self.h.prog_args
        ref_dir = self.rundir("reference")
        r = ckpt_cycle.Run("reference", in_dir(ref_dir, [self.plain] + self.argv), None, ref_dir,
                           None)
        try:
            self.ref_rc = r.wait(self.h.timeout)
        finally:
            r.cleanup()
        self.ref = ckpt_cycle.read_text(r.stdout).splitlines()
        self.ref_files = {n: read_bytes(os.path.join(ref_dir, n)) for n in compare}

    def rundir(self, label):
        d = tempfile.mkdtemp(prefix=label + "-", dir=self.work)
        shutil.copy(self.input, d)
        return d

    def measure(self, interval):
        d = self.rundir("measure")
        env = environment(os.path.join(d, "ckpt"), interval)
        r = ckpt_cycle.Run("measure", in_dir(d, [self.exe] + self.argv), env, d, None)
        try:
            rc = r.wait(self.h.timeout)
        finally:
            r.cleanup()
        self.runtime = r.elapsed()
        if rc != self.ref_rc or ckpt_cycle.read_text(r.stdout).splitlines() != self.ref:
            sys.exit("random_kills: an uninterrupted run of %s differs from the plain one" %
                     self.name)
        shutil.rmtree(d)


def in_dir(d, cmd):
    """`cmd` run in directory `d` (the file programs name their files relative to it)."""
    return ["/bin/sh", "-c", 'cd "$0" && exec "$@"', d] + cmd


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def environment(ckpt, interval):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env.update(AUTOCKPT_DIR=ckpt, AUTOCKPT_VERBOSE="1", AUTOCKPT_INTERVAL=interval)
    return env


def ckpt_state(ckpt):
    """(uncommitted gen-* directories, *.tmp files, COMPLETED exists) of a checkpoint dir."""
    started, committed = ckpt_cycle.generations(ckpt)
    tmp = set()
    for root, _, files in os.walk(ckpt):
        tmp |= {os.path.join(root, f) for f in files if f.endswith(".tmp")}
    return started - committed, tmp, os.path.exists(os.path.join(ckpt, "COMPLETED"))


def where(run, prog, leftovers, ckpt):
    """Where a kill landed (see the module's docstring); the state is frozen after SIGKILL."""
    partial, tmp, completed = ckpt_state(ckpt)
    lines = ckpt_cycle.complete_lines(run.stdout)
    if completed or (lines and lines[-1:] == prog.ref[-1:]):
        return "exit"
    if (partial - leftovers) or tmp:
        return "writing"
    if run.gens_before and "resuming from checkpoint" not in ckpt_cycle.read_text(run.stderr):
        return "restoring"
    return "compute"


def chain(prog, seed, interval, restarts):
    """Runs one chain; returns (kill sites, None or the reason it failed)."""
    rng = random.Random(seed)
    d = prog.rundir("chain")
    ckpt = os.path.join(d, "ckpt")
    env = environment(ckpt, interval)
    runs, sites = [], []
    try:
        for c in range(1, restarts + 2):
            leftovers = ckpt_state(ckpt)[0]
            run = ckpt_cycle.Run("run %d" % c, in_dir(d, [prog.exe] + prog.argv), env, d, ckpt)
            runs.append(run)
            if c <= restarts:
                try:
                    run.proc.wait(timeout=rng.uniform(0, prog.runtime))
                except subprocess.TimeoutExpired:
                    run.kill()
                    run.wait(prog.h.timeout)
                    sites.append(where(run, prog, leftovers, ckpt))
                    if sites[-1] == "exit" and ckpt_state(ckpt)[2]:
                        break  # it had finished: a run now would start over (R4)
                    continue
            run.wait(prog.h.timeout)
            break  # finished (before its kill, or the last run)
        h = argparse.Namespace(**vars(prog.h))
        h.expect_final = runs[-1].rc != -9  # not when the last kill landed after COMPLETED
        ckpt_cycle.judge_cycles(h, prog.ref, prog.ref_rc, runs)
        for name, want in prog.ref_files.items():
            if read_bytes(os.path.join(d, name)) != want:
                raise ckpt_cycle.Fail("%s differs from the plain run's" % name)
    except ckpt_cycle.Fail as e:
        return sites, "%s seed %d: %s" % (prog.name, seed, e)
    finally:
        for run in runs:
            run.cleanup()
    shutil.rmtree(d, ignore_errors=True)
    return sites, None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="the build's bin/autockpt-config")
    p.add_argument("--kills", type=int, default=1000, help="kills to land (default 1000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--interval", default="0.05", help="AUTOCKPT_INTERVAL (default 0.05)")
    p.add_argument("--restarts", type=int, default=3, help="kills per chain (default 3)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="only this program (e.g. count.c); repeatable")
    args = p.parse_args()
    top = tempfile.mkdtemp(prefix="autockpt-kills-")
    t0 = time.monotonic()
    table = [row for row in TABLE if not args.only or os.path.basename(row[0]) in args.only]
    progs = []
    for k, (source, argv, compare) in enumerate(table):
        prog = Program(args.config, source, argv, compare, os.path.join(top, str(k)))
        prog.measure(args.interval)
        print("%-20s %-24s T = %.2f s, %d lines" % (prog.name, argv, prog.runtime,
                                                    len(prog.ref)), flush=True)
        progs.append(prog)

    sites = collections.Counter()
    per_program = collections.Counter()
    failures = []
    lock = threading.Lock()
    rng = random.Random(args.seed)
    chains = 0

    def one(prog, seed):
        got, failure = chain(prog, seed, args.interval, args.restarts)
        with lock:
            sites.update(got)
            per_program[prog.name] += len(got)
            if failure:
                failures.append(failure)
                print("FAIL " + failure, flush=True)
        return len(got)

    landed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        pending = set()
        while landed < args.kills or pending:
            while landed + 3 * len(pending) < args.kills and len(pending) < 2 * args.jobs:
                chains += 1
                pending.add(pool.submit(one, rng.choice(progs), rng.randrange(1 << 30)))
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            before = landed
            landed += sum(f.result() for f in done)
            if landed // 100 != before // 100:
                print("  %d kills, %d chains, %d failures" % (landed, chains, len(failures)),
                      flush=True)
    if not failures:
        shutil.rmtree(top, ignore_errors=True)
    print("\n%d kills in %d chains (%d programs, AUTOCKPT_INTERVAL=%s, %d restarts each) in "
          "%.0f s" % (landed, chains, len(progs), args.interval, args.restarts,
                      time.monotonic() - t0))
    print("where the kills landed: " + ", ".join(
        "%s %d" % (s, sites[s]) for s in ["compute", "writing", "restoring", "exit"]))
    print("kills per program: " + ", ".join("%s %d" % kv for kv in sorted(per_program.items())))
    print("failures: %d%s" % (len(failures), "" if not failures else " (kept in %s)" % top))
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
