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
  4. The instrumented program runs with AUTOCKPT_DIR=ckpt and AUTOCKPT_INTERVAL, stdout appended
     to WORK/inst/stdout, stderr to WORK/inst/run-N.stderr.  Each of the --kills runs gets
     SIGKILL a random 0..--max-delay-ms after it committed its --after-checkpoints'th new
     checkpoint; the run after the last kill finishes.
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
from ckpt_cycle import (Fail, SetupError, committed_generations as committed,  # noqa: E402
                        config_query, describe_status, say, tail)

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
    for what, cmd in builds:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        if r.returncode != 0:
            raise SetupError("the %s build failed:\n  %s\n%s" % (what, shlex.join(cmd),
                                                                  r.stderr.rstrip()))
        say("  build %-12s %s" % (what, shlex.join(cmd)))
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


def run_killed(label, proc, ckpt, rng, args, err):
    """Waits for the run's --after-checkpoints'th new checkpoint, then kills it after a random
    delay."""
    before = committed(ckpt)
    deadline = time.monotonic() + args.timeout
    new = set()  # accumulated: older generations are pruned (AUTOCKPT_KEEP) while we watch
    while True:
        new |= committed(ckpt) - before
        if len(new) >= args.after_checkpoints:
            break
        if proc.poll() is not None:
            raise Fail("%s ended (%s) before it committed a checkpoint: give the program more "
                       "work\n%s" % (label, describe_status(proc.returncode), tail(err)))
        if time.monotonic() > deadline:
            raise Fail("%s committed no checkpoint within %g s" % (label, args.timeout))
        time.sleep(0.005)
    delay = rng.uniform(0, args.max_delay_ms)
    time.sleep(delay / 1000)
    if proc.poll() is not None:
        raise Fail("%s finished (%s) before it was killed: give the program more work\n%s" %
                   (label, describe_status(proc.returncode), tail(err)))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return max(new), delay


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
    p.add_argument("--interval", default="0.2")
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--after-checkpoints", type=int, default=1, metavar="N",
                   help="kill a run once it has committed N new checkpoints (default 1) ...")
    p.add_argument("--max-delay-ms", type=float, default=300,
                   help="... and a random 0..MS later (default 300)")
    p.add_argument("--seed", type=int)
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
    title = "%s %s%s: %s, AUTOCKPT_INTERVAL=%s" % (
        os.path.basename(args.source), args.opt, "".join(" " + c for c in args.cflags),
        "run and kill once" if args.leave else "%d kills" % args.kills, args.interval)
    say("files_cycle: %s (seed %d)" % (title, seed))

    if args.workdir:
        work = os.path.abspath(args.workdir)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    else:
        work = tempfile.mkdtemp(prefix="autockpt-files-")
    procs = []
    try:
        for d in ("plain", "inst"):
            os.makedirs(os.path.join(work, d), exist_ok=True)
            for f in args.input:
                shutil.copy2(f, os.path.join(work, d, os.path.basename(f)))  # mtime too
        plain, inst = build(args, work)
        prog_args = shlex.split(args.args)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
        env.update({"AUTOCKPT_DIR": "ckpt", "AUTOCKPT_INTERVAL": args.interval,
                    "AUTOCKPT_VERBOSE": "1"})
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
        for n in range(1, runs + 1):
            label = "run %d" % n
            err = os.path.join(inst_dir, "run-%d.stderr" % n)
            t0 = time.monotonic()
            proc = start([inst] + prog_args, inst_dir, os.path.join(inst_dir, "stdout"), err, env)
            procs.append(proc)
            last = n == runs and not args.leave
            if last:
                try:
                    rc = proc.wait(args.timeout)
                except subprocess.TimeoutExpired:
                    raise Fail("%s took longer than %g s" % (label, args.timeout))
                what = describe_status(rc)
            else:
                gen, delay = run_killed(label, proc, ckpt, rng, args, err)
                what = "killed %.0f ms after checkpoint %d" % (delay, gen)
            with open(err, errors="replace") as f:
                text = f.read()
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
