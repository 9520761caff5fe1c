#!/usr/bin/env python3
"""Files across restarts: builds a program plainly and with autockpt, runs the plain one once and
the instrumented one through checkpoint / SIGKILL / restart cycles with stdout appended to one
file (as `./prog >> out` on every run would), and checks that the output files the program
writes and that stdout file are byte-identical to the plain run's.  ckpt_cycle.py (the general
harness) gives each run its own stdout and accepts lines a killed run printed twice; this one
checks the stricter promise of DESIGN D5: what was written after the last checkpoint is
truncated at the restart and written again exactly once.

    files_cycle.py --config build/bin/autockpt-config tests/programs/files.c \\
        --input in.txt --args "in.txt out.txt 30" --compare out.txt --kills 3

What happens:
  1. SOURCE is compiled plain and instrumented (autockpt-config --cc/--cxx, --plugin, --ldflags).
  2. Two run directories, WORK/plain and WORK/inst, each get a copy of every --input file; every
     run starts in its directory, so ARGS name files relative to it.
  3. The plain program runs once: stdout appended to WORK/plain/stdout.
  4. The instrumented program runs once uninterrupted in WORK/calibration, counting its polls
     (AUTOCKPT_COUNT_POLLS).  Then it runs in WORK/inst with AUTOCKPT_DIR=ckpt, stdout appended
     to WORK/inst/stdout, stderr to WORK/inst/run-N.stderr.  Each of the --kills runs takes
     --after-checkpoints checkpoints and then halts, at polls drawn at random from the work still
     ahead (AUTOCKPT_POLL_INTERVAL, AUTOCKPT_HALT_POLL: see ckpt_cycle.py's PollPlan), and
     gets SIGKILL there; the run after the last kill finishes.  Nothing depends on the machine's
     speed.
  5. Checks: every killed run was still running when killed; every run after the first said
     "resuming from checkpoint"; the last run's exit status is the plain run's; WORK/inst/stdout
     and every --compare file are byte-identical to the plain run's.

With --leave the harness builds, runs the instrumented program once, kills it as above and
stops there, leaving WORK/inst (with its ckpt directory) and WORK/inst/prog for the commands
that follow (the tests that change an input file before the restart).

Prints a report ending in PASS or FAIL; exit status 0, 1 (FAIL) or 2 (setup error).  Every
process started is killed before the harness exits; each wait has a timeout.
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

# Shared with the checkpoint/restart harness beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_cache  # noqa: E402
from ckpt_cycle import (HALTED, Fail, PollPlan, SetupError, checkpoint_facts,  # noqa: E402
                        committed_generations as committed, config_query, describe_status,
                        polls_reported, say, tail)

CXX_SUFFIXES = (".cc", ".cpp", ".cxx", ".C")


def build(args, work):
    is_cxx = args.source.endswith(CXX_SUFFIXES)
    cc = config_query(args.config, "--cxx" if is_cxx else "--cc")
    plugin = config_query(args.config, "--plugin")
    ldflags = shlex.split(config_query(args.config, "--ldflags"))
    flags = [args.opt] + [f for group in args.cflags for f in shlex.split(group)]
    plain = os.path.join(work, "plain", "prog")
    inst = os.path.join(work, "inst", "prog")
    builds = [("instrumented", [cc] + flags + ["-fpass-plugin=" + plugin, args.source] + ldflags +
               ["-o", inst])]
    if not args.leave:
        builds.insert(0, ("plain", [cc] + flags + [args.source, "-o", plain]))
    cache = build_cache.cache_dir(args.config)
    for what, cmd in builds:
        key = build_cache.key(cmd, work)
        if build_cache.fetch(cache, key, cmd):
            say("  build %-12s cached  %s" % (what, shlex.join(cmd)))
            continue
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        if r.returncode != 0:
            raise SetupError("the %s build failed:\n  %s\n%s" % (what, shlex.join(cmd),
                                                                  r.stderr.rstrip()))
        say("  build %-12s %s" % (what, shlex.join(cmd)))
        build_cache.store(cache, key, cmd)
    return plain, inst


def start(cmd, cwd, stdout_path, stderr_path, env):
    # Append mode, as `>>` opens it: each run adds to the same file.
    with open(stdout_path, "ab") as out, open(stderr_path, "wb") as err:
        return subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def run_killed(label, proc, ckpt, args, err):
    """Waits until the run has committed its --after-checkpoints'th new checkpoint and halted,
    then kills it; returns the newest generation it committed."""
    before = committed(ckpt)
    deadline = time.monotonic() + args.timeout
    new = set()  # accumulated: older generations are pruned (AUTOCKPT_KEEP) while we watch
    while True:
        new |= committed(ckpt) - before
        with open(err, errors="replace") as f:
            halted = HALTED in f.read()
        if halted and len(new) >= args.after_checkpoints:
            break
        if proc.poll() is not None:
            raise Fail("%s ended (%s) before it halted with %d new checkpoint(s)\n%s" %
                       (label, describe_status(proc.returncode), args.after_checkpoints,
                        tail(err)))
        if time.monotonic() > deadline:
            raise Fail("%s did not halt with %d new checkpoint(s) within %g s\n%s" %
                       (label, args.after_checkpoints, args.timeout, tail(err)))
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return max(new)


def calibrate(args, inst, prog_args, env, work):
    """Runs the instrumented program once, uninterrupted, in its own directory; returns the
    number of polls it passed."""
    d = os.path.join(work, "calibration")
    env = dict(env, AUTOCKPT_COUNT_POLLS="yes")
    proc = start([inst] + prog_args, d, os.path.join(d, "stdout"), os.path.join(d, "stderr"), env)
    try:
        proc.wait(args.timeout)
    except subprocess.TimeoutExpired:
        raise Fail("the calibration run took longer than %g s" % args.timeout)
    finally:
        stop(proc)
    with open(os.path.join(d, "stderr"), errors="replace") as f:
        total = polls_reported(f.read())
    if total is None:
        raise Fail("the calibration run (%s) did not report its polls:\n%s" % (
            describe_status(proc.returncode), tail(os.path.join(d, "stderr"))))
    say("  calibration: %s, %d polls" % (describe_status(proc.returncode), total))
    return total


def identical(name, ref_path, got_path):
    try:
        with open(ref_path, "rb") as f:
            ref = f.read()
    except OSError as e:
        raise Fail("the reference run left no %s: %s" % (name, e))
    try:
        with open(got_path, "rb") as f:
            got = f.read()
    except OSError as e:
        raise Fail("the restarted runs left no %s: %s" % (name, e))
    if ref == got:
        return "%s: identical to the reference (%d bytes)" % (name, len(ref))
    n = next((k for k in range(min(len(ref), len(got))) if ref[k] != got[k]),
             min(len(ref), len(got)))
    line = ref.count(b"\n", 0, n) + 1
    ref_line = ref[ref.rfind(b"\n", 0, n) + 1:].split(b"\n", 1)[0]
    got_line = got[got.rfind(b"\n", 0, n) + 1:].split(b"\n", 1)[0]
    raise Fail("%s differs from the reference at byte %d (line %d; reference %d bytes, got %d):\n"
               "      reference: %r\n      got:       %r" % (name, n, line, len(ref), len(got),
                                                          ref_line[:80], got_line[:80]))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True)
    p.add_argument("source")
    p.add_argument("-O", dest="opt", default="2", type=lambda v: "-O" + v)
    p.add_argument("--cflags", action="append", default=[])
    p.add_argument("--input", action="append", default=[], metavar="FILE",
                   help="copied into each run directory (repeatable)")
    p.add_argument("--args", default="", help="the program's arguments, relative to its directory")
    p.add_argument("--compare", action="append", default=[], metavar="NAME",
                   help="an output file that must equal the plain run's (repeatable)")
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--after-checkpoints", type=int, default=1, metavar="N",
                   help="checkpoints each killed run takes before it halts (default 1)")
    p.add_argument("--seed", type=int, help="seed of the random checkpoint and halt polls")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--workdir")
    p.add_argument("--leave", action="store_true",
                   help="build, run and kill once, and leave WORKDIR/inst (needs --workdir)")
    args = p.parse_args(argv)
    if args.leave and not args.workdir:
        p.error("--leave needs --workdir")
    args.source = os.path.abspath(args.source)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    title = "%s %s%s: %s, %d checkpoint%s by progress before each kill" % (
        os.path.basename(args.source), args.opt, "".join(" " + c for c in args.cflags),
        "run and kill once" if args.leave else "%d kills" % args.kills,
        args.after_checkpoints, "" if args.after_checkpoints == 1 else "s")
    say("files_cycle: %s (seed %d)" % (title, seed))

    if args.workdir:
        work = os.path.abspath(args.workdir)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    else:
        work = tempfile.mkdtemp(prefix="autockpt-files-")
    procs = []
    try:
        for d in ("plain", "inst", "calibration"):
            os.makedirs(os.path.join(work, d), exist_ok=True)
            for f in args.input:
                shutil.copy2(f, os.path.join(work, d, os.path.basename(f)))  # mtime too
        plain, inst = build(args, work)
        prog_args = shlex.split(args.args)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
        env.update({"AUTOCKPT_DIR": "ckpt", "AUTOCKPT_VERBOSE": "2"})
        for e in args.env:
            k, _, v = e.partition("=")
            env[k] = v
        inst_dir = os.path.join(work, "inst")
        ckpt = os.path.join(inst_dir, "ckpt")

        ref_rc = None
        if not args.leave:
            pd = os.path.join(work, "plain")
            t0 = time.monotonic()
            proc = start([plain] + prog_args, pd, os.path.join(pd, "stdout"),
                         os.path.join(pd, "stderr"), None)
            procs.append(proc)
            try:
                ref_rc = proc.wait(args.timeout)
            except subprocess.TimeoutExpired:
                raise Fail("the reference run took longer than %g s" % args.timeout)
            say("  reference: %s, stdout %d bytes (%.2f s)" % (
                describe_status(ref_rc), os.path.getsize(os.path.join(pd, "stdout")),
                time.monotonic() - t0))

        runs = 1 if args.leave else args.kills + 1
        plan = PollPlan(calibrate(args, inst, prog_args, env, work), runs - (not args.leave), rng)
        base = {}   # run -> polls of the whole work before its start
        polls = {}  # generation -> (run, its poll count at the checkpoint)
        for n in range(1, runs + 1):
            label = "run %d" % n
            err = os.path.join(inst_dir, "run-%d.stderr" % n)
            t0 = time.monotonic()
            last = n == runs and not args.leave
            run_env = env
            if not last:
                every, halt = plan.checkpoints_and_halt(args.after_checkpoints)
                run_env = dict(env, AUTOCKPT_POLL_INTERVAL=str(every),
                               AUTOCKPT_HALT_POLL=str(halt))
            base[n] = plan.done
            proc = start([inst] + prog_args, inst_dir, os.path.join(inst_dir, "stdout"), err,
                         run_env)
            procs.append(proc)
            if last:
                try:
                    rc = proc.wait(args.timeout)
                except subprocess.TimeoutExpired:
                    raise Fail("%s took longer than %g s" % (label, args.timeout))
                what = describe_status(rc)
            else:
                gen = run_killed(label, proc, ckpt, args, err)
                what = "killed at poll %d, after checkpoint %d (every %d polls)" % (halt, gen, every)
            with open(err, errors="replace") as f:
                text = f.read()
            for g, poll, _ in checkpoint_facts(text):
                if poll is not None:
                    polls[g] = (n, poll)
            if not last:
                newest = max(committed(ckpt))
                if newest in polls:
                    r, poll = polls[newest]
                    plan.done = base[r] + poll
            resumed = re.search(r"resuming from checkpoint (\d+)", text)
            if n > 1 and not resumed:
                raise Fail("%s did not resume from a checkpoint:\n%s" % (label, tail(err)))
            say("  %s: %s%s (%.2f s)" % (label, "resumed from checkpoint %s, " % resumed.group(1)
                                       if resumed else "", what, time.monotonic() - t0))
            if last and rc != ref_rc:
                raise Fail("%s: %s, the reference: %s\n%s" % (label, what,
                                                             describe_status(ref_rc), tail(err)))
        if args.leave:
            say("  left %s and %s" % (inst, ckpt))
        else:
            say("  " + identical("stdout", os.path.join(work, "plain", "stdout"),
                                 os.path.join(inst_dir, "stdout")))
            for name in args.compare:
                say("  " + identical(name, os.path.join(work, "plain", name),
                                     os.path.join(inst_dir, name)))
    except SetupError as e:
        say("ERROR: %s\n  %s\n  (work directory kept: %s)" % (title, e, work))
        return 2
    except Fail as e:
        say("  " + "\n  ".join(str(e).split("\n")))
        say("FAIL: %s (seed %d)\n  (work directory kept: %s)" % (title, seed, work))
        return 1
    finally:
        for proc in procs:
            stop(proc)
    say("PASS: %s" % title)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
