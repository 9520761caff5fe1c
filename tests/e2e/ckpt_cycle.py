#!/usr/bin/env python3
"""Checkpoint/restart harness: builds a program plainly and with autockpt, runs the instrumented
one through chained checkpoint/kill/restart cycles and compares its output with the plain run's.
Building the plugin and runtime is left to CMake; this script only drives and judges one case.

One invocation is one row of the test table: a source, its flags and arguments, a trigger,
where to interrupt, how many cycles, what must match.  The lit tests in lit-tests/EndToEnd are
the table (`%e2e` runs this script with --config).

    ckpt_cycle.py --config build/bin/autockpt-config examples/count.c -O2 --args "15 0" --cycles 3

Nothing here depends on how fast the machine is: checkpoints and kills are placed by the
program's progress, counted in safe-point polls by the runtime (docs/design.md R17), and every
wait is for an event (a file, a line on stderr, an exit), bounded by --timeout.

What happens:
  1. SOURCE is compiled twice with the same compiler and flags: plain (no plugin, no runtime)
     and instrumented (-fpass-plugin, autockpt-config --cflags/--ldflags).
  2. The plain program runs once: its stdout and exit status are the reference.  The
     instrumented one runs once with AUTOCKPT_COUNT_POLLS=yes: its output must be the
     reference's too, and the number of polls it passed, T, sizes the plan.
  3. The instrumented program runs in a fresh checkpoint directory (AUTOCKPT_DIR=WORK/ckpt;
     inherited AUTOCKPT_* variables are dropped) through --cycles interrupted runs, then one
     more run is left to finish.  Each interrupted run halts at a poll drawn at random from the
     part of the work still ahead (AUTOCKPT_HALT_POLL: the program stops there, still taking the
     checkpoints asked for, and cannot end before it is killed), and its checkpoints come from
     one of three triggers:
       progress (default)  AUTOCKPT_POLL_INTERVAL: --kill-after-gen checkpoints at random
                           polls before the halt; the run is killed (SIGKILL) once it has
                           halted and committed them (their MANIFEST exists).
       --interval S        the real timer, AUTOCKPT_INTERVAL: SIGKILL --kill-delay-ms after the
                           run's --kill-after-gen'th new checkpoint is committed.
       --signal-after-ms   SIGUSR1 that long after the run printed its first line (not after the
                           start: a signal during startup would be a different test); with
                           AUTOCKPT_ON_SIGNAL=exit the program checkpoints and exits with 75 by
                           itself, with =continue it is killed as with the timer.
     The seed of the draws is printed (--seed repeats a run).
  4. Checks (all three unless some are named):
     --expect-final   the last run's exit status equals the reference's, and its last line too.
     --expect-resume  every restarted run resumed: it said "resuming from checkpoint G" for the
                      newest committed generation G, and its first line is the line after the
                      last one printed before G was taken (the runtime says where stdout stood
                      at each checkpoint, at AUTOCKPT_VERBOSE=2; where it cannot, stdout being no
                      file, the harness brackets it by watching the output while it waits).
     --same-output    the runs' outputs, concatenated as a file opened in append mode would hold
                      them, are the reference with only replays added: every run's lines are a
                      contiguous slice ref[s_i : s_i + n_i] of the reference, s_1 = 0, each
                      restarted run starts no later than where the previous one stopped
                      (s_i <= s_(i-1) + n_(i-1): nothing skipped) and no earlier than where that
                      one started (s_i >= s_(i-1)), and the last run ends where the reference ends.
                      Lines printed between a checkpoint and the kill appear twice ("replayed");
                      a killed run's incomplete last line is ignored.
     --in-process     no kills: one run with --checkpoints checkpoints spread evenly over its
                      polls (or, with --interval, the timer's); the output and exit status must
                      equal the reference exactly, and at least one checkpoint must have been
                      taken.

With --build-only the harness only builds the instrumented program into --workdir (named after
the source, e.g. WORK/count) and leaves WORK/ckpt alone.  With --stop-after-kill it builds the
instrumented program the same way, runs it once with the trigger, kills it at the kill point and
leaves WORK/ckpt for the commands that follow (the bad-input tests damage it).

A build identical to an earlier one of the same build directory (same command, compiler, inputs,
pass and runtime) is copied from BUILD/e2e-builds instead (build_cache.py).

Every wait has a timeout (--timeout per run); every process started is killed, with its process
group, before the harness exits.  Prints a PASS/FAIL report; exit status 0 on PASS, 1 on FAIL,
2 on a usage error.
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

import build_cache

POLL_S = 0.005            # how often a running program's checkpoint directory is looked at
HALTED = "autockpt: halted at poll "      # the runtime at AUTOCKPT_HALT_POLL
EXIT_AFTER_SIGNAL = 75    # AUTOCKPT_EXIT_CODE's default
CXX_SUFFIXES = (".cc", ".cpp", ".cxx", ".C")
FORTRAN_SUFFIXES = (".f90", ".F90", ".f", ".F", ".f95", ".F95", ".f03", ".F03", ".f08", ".F08")


class Fail(Exception):
    """A check failed: the message says what differed."""


class SetupError(Exception):
    """The case could not be run (build failed, bad arguments, ...)."""


# ---- small helpers ---------------------------------------------------------------------------

def say(msg=""):
    print(msg, flush=True)


def show(line, limit=60):
    text = line if len(line) <= limit else line[:limit] + "..."
    return '"' + text + '"'


def tail(path, n=8):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    return "\n".join("      | " + line for line in lines[-n:])


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode(errors="replace")


def complete_lines(path):
    """The lines of `path` that end with a newline (a killed writer may leave half a line)."""
    text = read_text(path)
    return text.split("\n")[:-1]


def generations(ckpt_dir):
    """(every generation directory, the committed ones: MANIFEST exists) of `ckpt_dir`, by number."""
    started, committed = set(), set()
    try:
        names = os.listdir(ckpt_dir)
    except OSError:
        return started, committed
    for name in names:
        m = re.fullmatch(r"gen-(\d+)", name)
        if m:
            started.add(int(m.group(1)))
            if os.path.exists(os.path.join(ckpt_dir, name, "MANIFEST")):
                committed.add(int(m.group(1)))
    return started, committed


def committed_generations(ckpt_dir):
    return generations(ckpt_dir)[1]


def describe_status(rc):
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return "killed by " + signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit %d" % rc


def config_query(config, flag):
    try:
        out = subprocess.run([config, flag], check=True, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise SetupError("cannot run %s %s: %s" % (config, flag, e))
    return out.stdout.strip()


def checkpoint_facts(stderr_text):
    """(generation, poll, stdout byte offset) from the runtime's AUTOCKPT_VERBOSE=2 lines
    "autockpt: checkpoint 3: at poll 1200; stdout at byte 345"; either may be None."""
    facts = []
    for m in re.finditer(r"^autockpt: checkpoint (\d+):((?: [^;\n]+;?)+)$", stderr_text, re.M):
        poll = re.search(r"at poll (\d+)", m.group(2))
        at = re.search(r"stdout at byte (\d+)", m.group(2))
        facts.append((int(m.group(1)), int(poll.group(1)) if poll else None,
                      int(at.group(1)) if at else None))
    return facts


def polls_reported(stderr_text):
    m = re.search(r"^autockpt: (\d+) polls in this run", stderr_text, re.M)
    return int(m.group(1)) if m else None


# ---- where to checkpoint and halt ------------------------------------------------------------

class PollPlan:
    """Places each interrupted run's checkpoints and halt in polls counted from its start, drawn
    at random from the work still ahead, so that the checkpoints spread over the whole run and no
    run can end before it is interrupted, however fast or slow the machine.  `total` is the
    number of polls of an uninterrupted instrumented run; `done` follows, across restarts, the
    polls before the checkpoint the next run resumes from.  A margin at the end keeps the halt
    clear of the end of the work when a restarted run counts a few polls differently."""

    def __init__(self, total, runs, rng):
        self.total = total
        self.runs = runs           # interrupted runs still to plan
        self.rng = rng
        self.done = 0
        self.margin = max(2, total // 50)

    def ahead(self):
        return self.total - self.done - self.margin

    def _share(self, need):
        ahead = self.ahead()
        if ahead < need:
            raise Fail("the program passes only %d polls, %d of them still ahead: too few to "
                       "place %d more checkpoints and a halt; give it more work" %
                       (self.total, max(ahead, 0), need))
        # This run takes a random part of an even share of what is ahead.
        share = max(need, ahead // (self.runs + 1))
        self.runs = max(self.runs - 1, 0)
        return share

    def checkpoints_and_halt(self, k):
        """(every, halt): k checkpoints, every `every` polls, then a halt before the next one."""
        share = self._share(k + 1)
        every = self.rng.randint(max(1, share // (3 * k)), max(1, share // k))
        halt = k * every + self.rng.randint(0, min(every - 1, self.ahead() - k * every))
        return every, halt

    def halt(self):
        """A halt only: the timer or the signal asks for the checkpoints."""
        share = self._share(2)
        return self.rng.randint(max(2, share // 2), share)

    def resumed_from(self, poll):
        self.done += poll


# ---- building --------------------------------------------------------------------------------

def build(args, work):
    """Compiles the plain and the instrumented program; returns their paths."""
    is_cxx = args.source.endswith(CXX_SUFFIXES)
    is_fortran = args.source.endswith(FORTRAN_SUFFIXES)
    cc = args.cc or config_query(args.config, "--fc" if is_fortran else
                                 "--cxx" if is_cxx else "--cc")
    plugin = config_query(args.config, "--plugin")
    cflags = shlex.split(config_query(args.config, "--cflags"))
    ldflags = shlex.split(config_query(args.config, "--fldflags" if is_fortran else "--ldflags"))
    flags = [args.opt] + [f for group in args.cflags for f in shlex.split(group)]
    if is_fortran:
        flags += ["-module-dir", work]  # the .mod files of its modules, not in the current directory
    name = args.name or os.path.splitext(os.path.basename(args.source))[0]
    plain = os.path.join(work, name + ".plain")
    instrumented = os.path.join(work, name)
    # --also: C sources compiled with the C compiler into objects of each build (a Fortran
    # program's C kernels).
    also = getattr(args, "also", [])  # other harnesses (full_disk.py) build through this too
    c_cc = config_query(args.config, "--cc") if also else None
    objects = {"plain": [], "instrumented": []}
    builds = []
    for k, src in enumerate(also):
        for what, extra in (("plain", []), ("instrumented", ["-fpass-plugin=" + plugin])):
            obj = os.path.join(work, "%s.%d.%s.o" % (name, k, what))
            objects[what].append(obj)
            builds.append((what + " " + os.path.basename(src),
                           [c_cc, args.opt] + extra + cflags + ["-c", src, "-o", obj]))
    builds.append(("instrumented", [cc] + flags + ["-fpass-plugin=" + plugin] + cflags +
                   [args.source] + objects["instrumented"] + ldflags + ["-o", instrumented]))
    if not (args.stop_after_kill or args.build_only):
        builds.append(("plain", [cc] + flags + cflags + [args.source] + objects["plain"] +
                       ["-o", plain]))
    else:
        builds = [b for b in builds if not b[0].startswith("plain")]
    cache = build_cache.cache_dir(args.config)
    for what, cmd in builds:
        key = build_cache.key(cmd, work)
        if build_cache.fetch(cache, key, cmd):
            say("  build %-13s cached  %s" % (what, shlex.join(cmd)))
            continue
        t0 = time.monotonic()
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            raise SetupError("the %s build took longer than %g s: %s" %
                             (what, args.timeout, shlex.join(cmd)))
        if r.returncode != 0:
            raise SetupError("the %s build failed (%s):\n  %s\n%s" %
                             (what, describe_status(r.returncode), shlex.join(cmd),
                              r.stderr.rstrip()))
        say("  build %-13s %5.2f s  %s" % (what, time.monotonic() - t0, shlex.join(cmd)))
        build_cache.store(cache, key, cmd)
    return plain, instrumented


# ---- running ---------------------------------------------------------------------------------

class Run:
    """One execution of a program with stdout and stderr in files, watched while it runs."""

    def __init__(self, label, cmd, env, work, ckpt_dir):
        self.label = label
        self.cmd = cmd
        self.stdout = os.path.join(work, label.replace(" ", "-") + ".stdout")
        self.stderr = os.path.join(work, label.replace(" ", "-") + ".stderr")
        self.ckpt_dir = ckpt_dir
        self.rc = None
        self.how = "finished"        # finished | killed | signalled
        self.brackets = {}           # generation -> (min, max) complete lines at its commit
        self.low = None              # lines printed before the latest listing of ckpt_dir
        self.first_line_t = None     # when the first complete line was seen
        self.low_at_start = {}       # generation -> lines before the last listing without it
        self.gens_after = set()      # committed generations once the run has exited
        self.poll_at = {}            # generation -> the run's poll count when it was taken
        self.gens_before = committed_generations(ckpt_dir) if ckpt_dir else set()
        self.t0 = time.monotonic()
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def elapsed(self):
        return time.monotonic() - self.t0

    def lines_now(self):
        try:
            with open(self.stdout, "rb") as f:
                return f.read().count(b"\n")
        except OSError:
            return 0

    def watch(self, until, timeout):
        """Polls until `until(self)` is true or the process exits; returns True if `until` held.
        Brackets, for each generation committed meanwhile, the number of lines the program had
        printed when it took that checkpoint.  The runtime flushes stdout, creates the gen-N
        directory, writes, commits (MANIFEST) and only then lets the program go on, so: a lower
        bound is the count read before the last listing without the directory, an upper bound
        the count read after the first listing with the MANIFEST.  (A runtime that printed or let
        the program run between the flush and the directory would need another bound.)"""
        seen = set(self.gens_before) | set(self.brackets)
        low = self.low if self.low is not None else self.lines_now()
        deadline = self.t0 + timeout
        while True:
            before = self.lines_now()
            started, committed = generations(self.ckpt_dir)
            after = self.lines_now()
            if after and self.first_line_t is None:
                self.first_line_t = time.monotonic()
            for g in started - set(self.low_at_start):
                self.low_at_start[g] = low
            for g in sorted(committed - seen):
                self.brackets[g] = (self.low_at_start.get(g, low), after)
            seen |= committed
            low = self.low = before
            if until(self):
                return True
            if self.proc.poll() is not None:
                self.rc = self.proc.returncode  # wait() brackets what came after the listing
                return False
            if time.monotonic() > deadline:
                raise Fail("%s: still running after %g s (--timeout); output so far:\n%s\n%s" %
                           (self.label, timeout, tail(self.stdout), tail(self.stderr)))
            time.sleep(POLL_S)

    def new_generations(self):
        return sorted(g for g in self.brackets if g not in self.gens_before)

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def halted(self):
        """Whether the runtime has said it halted (AUTOCKPT_HALT_POLL)."""
        return HALTED in read_text(self.stderr)

    def wait(self, timeout):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail("%s: did not exit within %g s" % (self.label, timeout))
        if self.ckpt_dir:
            # Bracket a generation committed between the last poll and the exit.
            self.gens_after = committed_generations(self.ckpt_dir)
            low = self.low if self.low is not None else 0
            for g in sorted(self.gens_after - self.gens_before - set(self.brackets)):
                self.brackets[g] = (self.low_at_start.get(g, low), self.lines_now())
            # Where the runtime says stdout stood at a checkpoint, the bracket is exact.
            with open(self.stdout, "rb") as f:
                out = f.read()
            for g, poll, at in checkpoint_facts(read_text(self.stderr)):
                if poll is not None:
                    self.poll_at[g] = poll
                if at is not None and g in self.brackets:
                    n = out.count(b"\n", 0, at)
                    self.brackets[g] = (n, n)
        return self.rc

    def cleanup(self):
        """Kills whatever is left of the process group."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def run_environment(args, ckpt_dir, interval, **settings):
    """The instrumented runs' environment: the inherited one without AUTOCKPT_*, the checkpoint
    directory, verbosity 2 (each checkpoint's poll and stdout offset), the timer if any, --env,
    then `settings` (AUTOCKPT_<NAME> for each NAME=value, None for unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env["AUTOCKPT_DIR"] = ckpt_dir
    env["AUTOCKPT_VERBOSE"] = "2"
    if interval:
        env["AUTOCKPT_INTERVAL"] = interval
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SetupError("--env wants NAME=VALUE, got %r" % item)
        env[name] = value
    for name, value in settings.items():
        if value is not None:
            env["AUTOCKPT_" + name.upper()] = str(value)
    return env


def trigger(args):
    """progress, timer or signal (see the top of this file)."""
    if args.signal_after_ms is not None:
        return "signal"
    return "timer" if args.interval else "progress"


def calibrate(args, instrumented, work, ref):
    """Runs the instrumented program once, uninterrupted, counting polls: its output must be the
    reference's; returns how many polls it passed."""
    env = run_environment(args, os.path.join(work, "calibration.ckpt"), None, count_polls="yes")
    run = Run("calibration", [instrumented] + args.prog_args, env, work, None)
    try:
        run.wait(args.timeout)
    finally:
        run.cleanup()
    total = polls_reported(read_text(run.stderr))
    got = read_text(run.stdout).splitlines()
    say("  calibration         %5.2f s  %s, %s polls" % (run.elapsed(), describe_status(run.rc),
                                                        total if total is not None else "no"))
    if ref is not None and got != ref:
        raise Fail("the instrumented program, uninterrupted, does not print what the plain one "
                   "does: " + first_difference(ref, got, 0) + "\n" + tail(run.stderr))
    if total is None:
        raise Fail("the instrumented program did not report its polls (AUTOCKPT_COUNT_POLLS):\n" +
                   tail(run.stderr))
    return total


def start_interrupted(args, plan, instrumented, work, ckpt, label):
    """Starts one run that the harness interrupts, with its halt and (progress) checkpoints."""
    every = None
    if trigger(args) == "progress":
        every, halt = plan.checkpoints_and_halt(args.kill_after_gen)
    else:
        halt = plan.halt()
    interval = args.interval if trigger(args) == "timer" else None
    env = run_environment(args, ckpt, interval, poll_interval=every, halt_poll=halt)
    run = Run(label, [instrumented] + args.prog_args, env, work, ckpt)
    run.plan = ("checkpoints every %d polls, " % every if every else "") + "halt at poll %d" % halt
    return run


def interrupt(run, args):
    """Interrupts one run as its trigger says; returns once it has exited."""
    k = args.kill_after_gen
    how = trigger(args)
    if how == "signal":
        # SIGUSR1 once the program is surely running (its first line is out, so the runtime has
        # installed its handler), or has halted; with AUTOCKPT_ON_SIGNAL=exit the program leaves
        # by itself.
        run.watch(lambda r: r.halted() or r.first_line_t is not None and
                  time.monotonic() - r.first_line_t >= args.signal_after_ms / 1000.0, args.timeout)
        if run.proc.poll() is None:
            run.kill(signal.SIGUSR1)
            run.how = "signalled"
    if how == "progress":
        # The checkpoints are taken before the halt, unless a foreign frame defers one past it.
        done = run.watch(lambda r: r.halted() and len(r.new_generations()) >= k, args.timeout)
    else:
        done = run.watch(lambda r: len(r.new_generations()) >= k, args.timeout)
        if done:
            time.sleep(args.kill_delay_ms / 1000.0)
    if not done:
        run.wait(args.timeout)
        return
    if run.proc.poll() is None:
        run.kill()
        run.how = "killed"
    run.wait(args.timeout)


def report_run(run):
    new = run.new_generations()
    say("  %-8s %10.2f s  %s%s, %d lines, checkpoints %s%s" % (
        run.label, run.elapsed(), describe_status(run.rc),
        " (after SIGUSR1)" if run.how == "signalled" else "",
        len(complete_lines(run.stdout)),
        ", ".join("gen %d" % g for g in new) if new else "none",
        " (%s)" % run.plan if getattr(run, "plan", None) else ""))


def check_interrupted(run, ref_rc, ckpt):
    if run.how == "finished":
        raise Fail("%s ended (%s) before it was interrupted, with %d new checkpoint(s):\n%s" % (
            run.label, describe_status(run.rc), len(run.new_generations()), tail(run.stderr)))
    ok = {"killed": [-signal.SIGKILL], "signalled": [EXIT_AFTER_SIGNAL, -signal.SIGKILL]}
    if run.rc not in ok.get(run.how, []):
        raise Fail("%s: %s (expected to be stopped by the harness)\n%s" % (
            run.label, describe_status(run.rc), tail(run.stderr)))
    if not committed_generations(ckpt):
        raise Fail("%s was stopped before any checkpoint was committed in %s" % (run.label, ckpt))


# ---- judging ---------------------------------------------------------------------------------

def find_slice(ref, lines, lo, hi):
    """Offsets s in [lo, hi] with ref[s:s+len(lines)] == lines, largest first."""
    n = len(lines)
    hits = [s for s in range(max(lo, 0), min(hi, len(ref) - n) + 1) if ref[s:s + n] == lines]
    return sorted(hits, reverse=True)


def first_difference(ref, lines, start):
    for i, line in enumerate(lines):
        j = start + i
        if j >= len(ref):
            return "line %d of the run, %s, is past the reference's end (%d lines)" % (
                i + 1, show(line), len(ref))
        if ref[j] != line:
            return "line %d of the run is %s, the reference's line %d is %s" % (
                i + 1, show(line), j + 1, show(ref[j]))
    return "no difference from line %d of the reference" % (start + 1)


def judge_cycles(args, ref, ref_rc, runs):
    """Checks the chained runs; returns the notes for the report, raises Fail on a mismatch."""
    notes = []
    at_commit = {}   # generation -> (low, high): reference lines printed when it was committed
    prev_start, prev_len = 0, 0
    final = runs[-1]
    for i, run in enumerate(runs):
        is_last = run is final
        lines = read_text(run.stdout).splitlines() if is_last else complete_lines(run.stdout)
        want = None      # (generation, (low, high)) this run must resume from
        if i > 0 and runs[i - 1].gens_after:
            g = max(runs[i - 1].gens_after)
            want = (g, at_commit.get(g))
        # Where this run's output may start in the reference.
        if i == 0:
            lo, hi = (0, 0) if args.same_output or args.expect_resume else (0, len(ref))
        elif args.expect_resume and want and want[1]:
            lo, hi = want[1]
        elif args.same_output:
            lo, hi = prev_start, prev_start + prev_len
        else:
            lo, hi = 0, len(ref)
        if not lines:
            notes.append("%s printed nothing" % run.label)
            if is_last and ref:
                raise Fail("%s printed nothing, the reference printed %d lines" %
                           (run.label, len(ref)))
            start = lo if lo == hi else None
        else:
            hits = find_slice(ref, lines, lo, hi)
            if not hits:
                anywhere = find_slice(ref, lines, 0, len(ref))
                if anywhere:
                    s = anywhere[0]
                    why = "it starts at reference line %d %s, expected %s" % (
                        s + 1, show(ref[s]), "line %d" % (lo + 1) if lo == hi else
                        "between lines %d and %d" % (lo + 1, hi + 1))
                    if i > 0 and s == 0:
                        why += ": it started from the beginning instead of resuming"
                else:
                    why = "its lines are not a slice of the reference: " + first_difference(
                        ref, lines, lo if lo < len(ref) else 0)
                raise Fail("%s: %s\n    first line: %s\n    last line:  %s" %
                           (run.label, why, show(lines[0]), show(lines[-1])))
            start = hits[0]
            if i > 0 and args.same_output and not prev_start <= start <= prev_start + prev_len:
                raise Fail("%s starts at reference line %d, outside lines %d-%d that the run "
                           "before it printed" % (run.label, start + 1, prev_start + 1,
                                                  prev_start + prev_len + 1))
        if i > 0:
            msg = "%s " % run.label
            msg += "began at reference line %d %s" % (start + 1, show(ref[start])) if lines else \
                "resumed"
            if want and want[1]:
                low, high = want[1]
                msg += " after checkpoint gen %d (committed after line %s)" % (
                    want[0], low if low == high else "%d-%d" % (low, high))
            if lines and args.same_output:
                replayed = prev_start + prev_len - start
                msg += ", %d line%s replayed" % (replayed, "" if replayed == 1 else "s")
            notes.append(msg)
            if args.expect_resume:
                resumed = re.search(r"resuming from checkpoint (\d+)", read_text(run.stderr))
                if not resumed:
                    raise Fail("%s did not say \"resuming from checkpoint\" on stderr:\n%s" %
                               (run.label, tail(run.stderr)))
                if want and int(resumed.group(1)) != want[0]:
                    raise Fail("%s resumed from checkpoint %s, the newest committed one was %d" %
                               (run.label, resumed.group(1), want[0]))
                # A checkpoint committed when 0 or 1 lines may have been printed (the count is
                # known to within one poll) may be resumed from the first line.
                if lines and start == 0 and not (want and want[1][0] == 0):
                    raise Fail("%s started from the beginning instead of resuming" % run.label)
                # An incremental checkpoint (AUTOCKPT_INCREMENTAL) is read on top of others.
                chain = re.search(r"resuming from checkpoint \d+ \(.*; incremental, read on top "
                                  r"of generations? ([\d, ]+)\)", read_text(run.stderr))
                if chain:
                    notes[-1] += ", an incremental image read on top of " + chain.group(1)
        if start is not None:
            for g, (low, high) in run.brackets.items():
                at_commit[g] = (start + low, start + high)
            prev_start, prev_len = start, len(lines)
    if args.same_output and prev_start + prev_len != len(ref):
        raise Fail("%s stopped at reference line %d of %d" % (final.label, prev_start + prev_len,
                                                              len(ref)))
    if args.expect_final:
        if final.rc != ref_rc:
            raise Fail("%s: %s, the reference: %s\n%s" % (final.label, describe_status(final.rc),
                                                          describe_status(ref_rc),
                                                          tail(final.stderr)))
        got = read_text(final.stdout).splitlines()
        if got[-1:] != ref[-1:]:
            raise Fail("%s's last line is %s, the reference's is %s" % (
                final.label, show(got[-1]) if got else "(none)", show(ref[-1]) if ref else "(none)"))
        notes.append("%s ended with %s and %s, as the reference" % (
            final.label, show(got[-1]) if got else "no output", describe_status(final.rc)))
    return notes


# ---- the modes -------------------------------------------------------------------------------

def run_reference(args, plain, work):
    ref = Run("reference", [plain] + args.prog_args, None, work, None)
    try:
        rc = ref.wait(args.timeout)
    finally:
        ref.cleanup()
    lines = read_text(ref.stdout).splitlines()
    say("  reference           %5.2f s  %s, %d lines, last %s" % (
        ref.elapsed(), describe_status(rc), len(lines), show(lines[-1]) if lines else "(none)"))
    return lines, rc


def cycle_mode(args, plain, instrumented, work, rng):
    ckpt = os.path.join(work, "ckpt")
    ref, ref_rc = run_reference(args, plain, work)
    plan = PollPlan(calibrate(args, instrumented, work, ref), args.cycles, rng)
    runs = []
    started = []  # every process started, judged or not: none outlives a failure (a halted
                  # program waits to be killed for ever)
    try:
        for c in range(1, args.cycles + 2):
            label = "run %d" % c
            if c == args.cycles + 1:
                run = Run(label, [instrumented] + args.prog_args,
                          run_environment(args, ckpt, None), work, ckpt)
                started.append(run)
                run.watch(lambda r: False, args.timeout)
                run.wait(args.timeout)
            else:
                # The checkpoint directory as it was (hard links: committed images are never
                # written again), for running this run again (below).
                before = ckpt + ".before"
                shutil.rmtree(before, ignore_errors=True)
                if os.path.isdir(ckpt):
                    shutil.copytree(ckpt, before, copy_function=os.link, symlinks=True)
                for attempt in range(5):
                    run = start_interrupted(args, plan, instrumented, work, ckpt, label)
                    started.append(run)
                    interrupt(run, args)
                    if run.how != "finished" or run.rc != ref_rc or attempt == 4:
                        break
                    # It ended well before its halt: where threads wait for each other, polls are
                    # not progress, and a run may pass fewer of them than the count said were
                    # ahead.  The checkpoint directory goes back to what it was before the run
                    # (its generations, the pruned ones, no completion marker), and the run goes
                    # again from the same checkpoint with half of what was thought ahead.
                    say("  %-8s ended before its halt (%s, %s); again from the same checkpoint "
                        "with half the polls thought ahead" % (label, run.plan,
                                                               describe_status(run.rc)))
                    run.cleanup()
                    shutil.rmtree(ckpt, ignore_errors=True)
                    if os.path.isdir(before):
                        shutil.copytree(before, ckpt, copy_function=os.link, symlinks=True)
                    plan.runs += 1
                    plan.total = plan.done + plan.margin + (plan.total - plan.done - plan.margin) // 2
            run.base = plan.done   # polls of the whole work before this run's start
            runs.append(run)
            report_run(run)
            if c <= args.cycles:
                check_interrupted(run, ref_rc, ckpt)
                newest = max(committed_generations(ckpt))
                for r in reversed(runs):
                    if newest in r.poll_at:
                        plan.done = r.base + r.poll_at[newest]
                        break
    finally:
        for run in started:
            run.cleanup()
    return judge_cycles(args, ref, ref_rc, runs)


def in_process_mode(args, plain, instrumented, work):
    ckpt = os.path.join(work, "ckpt")
    ref, ref_rc = run_reference(args, plain, work)
    if args.interval:
        env = run_environment(args, ckpt, args.interval)
    else:
        total = calibrate(args, instrumented, work, ref)
        every = max(1, total // (args.checkpoints + 1))
        env = run_environment(args, ckpt, None, poll_interval=every)
    run = Run("run 1", [instrumented] + args.prog_args, env, work, ckpt)
    try:
        run.watch(lambda r: False, args.timeout)
        run.wait(args.timeout)
    finally:
        run.cleanup()
    taken = len(re.findall(r"^autockpt: checkpoint \d+ .* written", read_text(run.stderr), re.M))
    newest = max(committed_generations(ckpt), default=0)
    say("  run 1    %10.2f s  %s, %d checkpoints (newest gen %d)" % (
        run.elapsed(), describe_status(run.rc), taken, newest))
    got = read_text(run.stdout).splitlines()
    if run.rc != ref_rc:
        raise Fail("run 1: %s, the reference: %s\n%s" % (describe_status(run.rc),
                                                         describe_status(ref_rc), tail(run.stderr)))
    if got != ref:
        if got == ref[:len(got)]:
            raise Fail("run 1 printed %d lines, the reference %d" % (len(got), len(ref)))
        raise Fail("run 1's output differs from the reference: " + first_difference(ref, got, 0))
    if newest == 0:
        raise Fail("no checkpoint was taken")
    return ["output identical to the reference (%d lines) across %d checkpoints" %
            (len(got), max(taken, newest))]


def stop_after_kill_mode(args, instrumented, work, rng):
    ckpt = os.path.join(work, "ckpt")
    plan = PollPlan(calibrate(args, instrumented, work, None), 1, rng)
    run = start_interrupted(args, plan, instrumented, work, ckpt, "run 1")
    try:
        interrupt(run, args)
    finally:
        run.cleanup()
    gens = sorted(committed_generations(ckpt))
    say("  run 1    %10.2f s  %s, %d lines; committed: %s (%s)" % (
        run.elapsed(), describe_status(run.rc), len(complete_lines(run.stdout)),
        ", ".join("gen-%06d" % g for g in gens) or "none", run.plan))
    if run.how == "finished":
        raise Fail("run 1 was not interrupted (%s)" % describe_status(run.rc))
    if not gens:
        raise Fail("run 1 was stopped before any checkpoint was committed")
    return ["left %s and %s" % (instrumented, ckpt)]


# ---- command line ----------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="ckpt_cycle.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the top of this file for what each check means.")
    p.add_argument("--config", required=True, help="the build's bin/autockpt-config")
    p.add_argument("source", help="a C, C++ or Fortran source file (C++: .cc .cpp .cxx .C; "
                                  "Fortran: .f90 .F90 .f .F, built with autockpt-config --fc)")
    b = p.add_argument_group("build")
    b.add_argument("-O", dest="opt", default="2", metavar="LEVEL",
                   type=lambda v: "-O" + v, help="optimisation level: -O0, -O2 (default), -Os ...")
    b.add_argument("--cflags", action="append", default=[], metavar="FLAGS",
                   help="more compiler flags for both builds (repeatable)")
    b.add_argument("--cc", help="compiler (default: autockpt-config --cc, or --cxx for C++)")
    b.add_argument("--name", help="name of the instrumented executable (default: source stem)")
    b.add_argument("--also", action="append", default=[], metavar="C_SOURCE",
                   help="a C source compiled with the C compiler and linked in (plain and "
                        "instrumented), e.g. the C kernels of a Fortran program")
    r = p.add_argument_group("run")
    r.add_argument("--args", default="", metavar="ARGS", help="the program's arguments (one string)")
    r.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="more environment for the instrumented runs (repeatable)")
    r.add_argument("--workdir", help="build and run here (default: a temporary directory, "
                   "removed after a PASS)")
    r.add_argument("--timeout", type=float, default=60, metavar="S",
                   help="limit for each build and each run (default 60)")
    t = p.add_argument_group("trigger and interruption (default: by progress, counted in polls)")
    t.add_argument("--interval", metavar="S", help="checkpoints by the real timer instead: "
                   "AUTOCKPT_INTERVAL for the instrumented runs")
    t.add_argument("--signal-after-ms", type=float, metavar="MS",
                   help="checkpoints by SIGUSR1 instead, sent this long after each interrupted "
                   "run's first line")
    t.add_argument("--kill-after-gen", type=int, default=1, metavar="K",
                   help="SIGKILL once the run has committed K new checkpoints (default 1) ...")
    t.add_argument("--kill-delay-ms", type=float, default=100, metavar="MS",
                   help="... and, with the timer or the signal, this much later (default 100)")
    t.add_argument("--cycles", type=int, default=3, metavar="K",
                   help="interrupted runs before the one left to finish (default 3)")
    t.add_argument("--checkpoints", type=int, default=3, metavar="N",
                   help="with --in-process: checkpoints spread over the run (default 3)")
    t.add_argument("--seed", type=int, help="seed of the random checkpoint and halt polls "
                   "(default: a new one, printed)")
    c = p.add_argument_group("checks (default: the first three)")
    c.add_argument("--expect-final", action="store_true")
    c.add_argument("--expect-resume", action="store_true")
    c.add_argument("--same-output", action="store_true")
    c.add_argument("--in-process", action="store_true",
                   help="one run, frequent checkpoints, no kill: output must equal the reference")
    c.add_argument("--stop-after-kill", action="store_true",
                   help="build, run once, kill, and leave WORKDIR/ckpt (needs --workdir)")
    c.add_argument("--build-only", action="store_true",
                   help="only build the instrumented program into WORKDIR (needs --workdir)")
    c.add_argument("--keep", action="store_true", help="keep the temporary directory after a PASS")
    args = p.parse_args(argv)
    args.prog_args = shlex.split(args.args)
    if not (args.expect_final or args.expect_resume or args.same_output):
        args.expect_final = args.expect_resume = args.same_output = True
    if (args.stop_after_kill or args.build_only) and not args.workdir:
        p.error("--stop-after-kill and --build-only need --workdir")
    if args.cycles < 0 or args.kill_after_gen < 1 or args.checkpoints < 1:
        p.error("--cycles must be >= 0, --kill-after-gen and --checkpoints >= 1")
    if not os.path.isfile(args.source):
        p.error("no such source file: " + args.source)
    if args.interval is not None and args.interval.strip() in ("", "0"):
        args.interval = None
    args.source = os.path.abspath(args.source)
    return args


def summary(args):
    prog = " ".join([os.path.basename(args.source), args.opt] + args.cflags + args.prog_args)
    if args.build_only:
        return prog + ": build only"
    mode = ("in-process" if args.in_process else "stop-after-kill" if args.stop_after_kill
            else "%d cycle%s" % (args.cycles, "" if args.cycles == 1 else "s"))
    how = trigger(args)
    if args.in_process:
        trig = ["AUTOCKPT_INTERVAL=%s" % args.interval if args.interval else
                "%d checkpoints by progress" % args.checkpoints]
    elif how == "progress":
        trig = ["%d checkpoint%s by progress, then a halt and SIGKILL" % (
            args.kill_after_gen, "" if args.kill_after_gen == 1 else "s")]
    else:
        trig = ["AUTOCKPT_INTERVAL=%s" % args.interval if how == "timer" else
                "SIGUSR1 %g ms after the first line" % args.signal_after_ms,
                "SIGKILL %g ms after checkpoint %d of a run%s" % (
                    args.kill_delay_ms, args.kill_after_gen,
                    " if still running" if how == "signal" else "")]
    return "%s: %s, %s" % (prog, mode, ", ".join(trig))


def main(argv):
    args = parse_args(argv)
    title = summary(args)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    if not args.build_only:
        title += " (seed %d)" % seed
    say("ckpt_cycle: " + title)
    if args.workdir:
        work = os.path.abspath(args.workdir)
        os.makedirs(work, exist_ok=True)
        if not args.build_only:
            shutil.rmtree(os.path.join(work, "ckpt"), ignore_errors=True)
    else:
        work = tempfile.mkdtemp(prefix="autockpt-e2e-")
    t0 = time.monotonic()
    try:
        plain, instrumented = build(args, work)
        if args.build_only:
            notes = ["built " + instrumented]
        elif args.stop_after_kill:
            notes = stop_after_kill_mode(args, instrumented, work, rng)
        elif args.in_process:
            notes = in_process_mode(args, plain, instrumented, work)
        else:
            notes = cycle_mode(args, plain, instrumented, work, rng)
    except SetupError as e:
        say("ERROR: %s\n  %s\n  (work directory kept: %s)" % (title, e, work))
        return 2
    except Fail as e:
        say("  " + "\n  ".join(str(e).split("\n")))
        say("FAIL: %s\n  (work directory kept: %s)" % (title, work))
        return 1
    for note in notes:
        say("  " + note)
    say("PASS: %s (%.1f s)" % (title, time.monotonic() - t0))
    if not args.workdir and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
