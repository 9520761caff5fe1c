#!/usr/bin/env python3
"""A full disk during a checkpoint, end to end: tests/programs/grow.c runs with AUTOCKPT_DIR on a
small tmpfs that holds its first checkpoint but not its second (which carries a few MiB more of
heap).  The program must say that the disk is full and that the previous checkpoint is intact,
go on (AUTOCKPT_ON_SIGNAL=continue) or stop with status 70 (=exit, the default), and leave no
partial generation behind; a restart must resume from the intact generation.

    full_disk.py --config build/bin/autockpt-config

What happens:
  1. grow.c is compiled with autockpt and run once with its checkpoints on the ordinary disk
     (AUTOCKPT_ON_SIGNAL=continue): its output is the reference.
  2. A tmpfs of --disk-kib is mounted on WORK/disk, in a mount namespace of the test's own
     (unshare -m; not root: unshare -rm, a user namespace too).  If it cannot be mounted the test
     fails: it never skips.  It is unmounted whatever happens, on SIGTERM and SIGINT too, and
     with the namespace it goes away even after a SIGKILL.
  3. continue: run 1 writes generation 1, fails the second checkpoint ("the disk is full", "the
     previous one is intact"), must go on printing, and is killed; the directory holds exactly
     generation 1, committed, and `autockpt verify` accepts it.  Run 2 resumes from generation 1
     and finishes with the reference's output from where it resumed.
  4. exit: run 1 stops with status 75 after generation 1; run 2 resumes from it, fails the second
     checkpoint and stops with status 70 saying so; generation 1 is still the only one and valid.

Prints a report ending in PASS or FAIL; exit status 0 on PASS, 1 on FAIL, 2 on a setup error.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import types

# Shared with the checkpoint/restart harness beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckpt_cycle import (Fail, Run, SetupError, build, complete_lines,  # noqa: E402
                        describe_status, generations, read_text, say, tail)

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "grow.c")
ARGS = ["30", "4"]              # 30 numbers; 4 MiB allocated at 10, in the second checkpoint
IN_NAMESPACE = "AUTOCKPT__FULL_DISK_NAMESPACE"
DISK_FULL = "checkpoint failed, the previous one is intact:"


def environment(ckpt_dir, on_signal):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env.update({"AUTOCKPT_DIR": ckpt_dir, "AUTOCKPT_VERBOSE": "1",
                "AUTOCKPT_ON_SIGNAL": on_signal})
    return env


def finished(run, args, want_rc):
    rc = run.wait(args.timeout)
    if rc != want_rc:
        raise Fail("%s: %s, expected exit %d\n%s\n%s" % (run.label, describe_status(rc), want_rc,
                                                         tail(run.stdout), tail(run.stderr)))
    return rc


def expect_in(run, text):
    err = read_text(run.stderr)
    if text not in err:
        raise Fail("%s: stderr does not say %r:\n%s" % (run.label, text, tail(run.stderr, 12)))


def expect_disk_full(run):
    """The runtime's warning: the disk is full, and the previous checkpoint is intact."""
    lines = [l for l in read_text(run.stderr).splitlines() if DISK_FULL in l]
    if not lines or "No space left on device" not in lines[0] or "the disk is full" not in lines[0]:
        raise Fail("%s: no 'disk is full, the previous one is intact' warning:\n%s" %
                   (run.label, tail(run.stderr, 12)))
    say("  %s said: %s" % (run.label, lines[0].strip()))


def expect_only_generation_1(ckpt, autockpt, label):
    """Generation 1, committed and valid, and nothing else: the failed one left nothing."""
    started, committed = generations(ckpt)
    if started != {1} or committed != {1}:
        raise Fail("%s: %s holds generations %s (committed %s), expected exactly 1, committed" %
                   (label, ckpt, sorted(started), sorted(committed)))
    leftovers = [n for n in os.listdir(os.path.join(ckpt, "gen-000001"))
                 if n.endswith(".tmp")]
    if leftovers:
        raise Fail("%s: temporary files left in generation 1: %s" % (label, leftovers))
    r = subprocess.run([autockpt, "verify", ckpt], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Fail("%s: autockpt verify %s: %s%s" % (label, ckpt, r.stdout, r.stderr))
    say("  %s: only generation 1, committed and valid (%s)" % (label, r.stdout.strip()))


def expect_resumed_tail(run, ref):
    """A restarted run resumed from generation 1 and printed the reference from there on."""
    expect_in(run, "resuming from checkpoint 1 ")
    lines = complete_lines(run.stdout)
    if not lines or lines[0] == ref[0] or lines != ref[len(ref) - len(lines):]:
        raise Fail("%s: printed %d lines starting %r, not the reference's last lines after a "
                   "resume:\n%s" % (run.label, len(lines), lines[:1], tail(run.stdout)))
    say("  %s resumed at %r and ended with %r, as the reference" % (run.label, lines[0],
                                                                   lines[-1]))


def continue_case(prog, disk, autockpt, ref, args, work):
    say("AUTOCKPT_ON_SIGNAL=continue: the program goes on after the failed checkpoint")
    ckpt = os.path.join(disk, "continue")
    env = environment(ckpt, "continue")
    run = Run("continue run 1", [prog] + ARGS, env, work, ckpt)
    try:
        if not run.watch(lambda r: DISK_FULL in read_text(r.stderr), args.timeout):
            raise Fail("%s: %s before any checkpoint failed:\n%s" % (
                run.label, describe_status(run.rc), tail(run.stderr)))
        failed_at = len(complete_lines(run.stdout))
        if not run.watch(lambda r: len(complete_lines(r.stdout)) >= failed_at + 3, args.timeout):
            raise Fail("%s: %s after the failed checkpoint instead of going on:\n%s" % (
                run.label, describe_status(run.rc), tail(run.stderr)))
        run.kill()
        run.wait(args.timeout)
    finally:
        run.cleanup()
    say("  %s printed %d lines after the failure, then was killed" % (
        run.label, len(complete_lines(run.stdout)) - failed_at))
    expect_disk_full(run)
    expect_only_generation_1(ckpt, autockpt, "after the kill")

    run = Run("continue run 2", [prog] + ARGS, env, work, ckpt)
    try:
        finished(run, args, 0)
    finally:
        run.cleanup()
    expect_resumed_tail(run, ref)


def exit_case(prog, disk, autockpt, args, work):
    say("AUTOCKPT_ON_SIGNAL=exit: the program stops when the checkpoint it was asked for fails")
    ckpt = os.path.join(disk, "exit")
    env = environment(ckpt, "exit")
    for n, rc in ((1, 75), (2, 70)):
        run = Run("exit run %d" % n, [prog] + ARGS, env, work, ckpt)
        try:
            finished(run, args, rc)
        finally:
            run.cleanup()
        say("  %s: %s" % (run.label, describe_status(rc)))
    expect_in(run, "resuming from checkpoint 1 ")
    expect_disk_full(run)
    expect_in(run, "without a new checkpoint")
    expect_only_generation_1(ckpt, autockpt, "after the stop")


class Tmpfs:
    """A tmpfs mounted on `path` until unmount(), which a SIGTERM or SIGINT still reaches."""

    def __init__(self, path, kib):
        os.makedirs(path)
        try:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % kib, "tmpfs", path],
                               capture_output=True, text=True)
            why = r.stderr.strip() or describe_status(r.returncode) if r.returncode else ""
        except OSError as e:
            why = str(e)
        if why:
            raise SetupError("cannot mount a %d KiB tmpfs on %s: %s (the test needs root, or "
                             "unprivileged user namespaces for `unshare -rm`)" % (kib, path, why))
        self.path = path
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))

    def unmount(self):
        r = subprocess.run(["umount", self.path], capture_output=True, text=True)
        if r.returncode != 0:  # something still uses it: detach it now, it goes when unused
            subprocess.run(["umount", "-l", self.path], capture_output=True)


def in_own_mount_namespace(argv):
    """Runs this script again in a mount namespace of its own (unshare -m; not root: -rm, as root
    of a user namespace too), so that the tmpfs goes away with it even if it is killed.  Returns
    when already there, or as root when no namespace can be made (the mount is then unmounted on
    the way out, which a SIGKILL prevents)."""
    if os.environ.get(IN_NAMESPACE):
        return
    flags = "-m" if os.geteuid() == 0 else "-rm"
    unshare = shutil.which("unshare")
    probe = unshare and subprocess.run([unshare, flags, "true"], capture_output=True, text=True)
    if not probe or probe.returncode != 0:
        why = probe.stderr.strip() if probe else "no unshare(1)"
        if os.geteuid() == 0:
            say("no mount namespace (%s): mounting in this one" % why)
            return
        raise SetupError("not root, and no user namespace to mount a tmpfs in (%s): run the "
                         "test as root" % why)
    env = dict(os.environ, **{IN_NAMESPACE: "1"})
    r = subprocess.run([unshare, flags, sys.executable, os.path.abspath(__file__)] + argv, env=env)
    sys.exit(r.returncode)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="the build's bin/autockpt-config")
    p.add_argument("--disk-kib", type=int, default=1024,
                   help="tmpfs size: room for one image of grow.c, not for two (default 1024)")
    p.add_argument("--timeout", type=float, default=60, metavar="S", help="per run (default 60)")
    p.add_argument("--keep", action="store_true", help="keep the work directory after a PASS")
    args = p.parse_args(argv)
    args.config = os.path.abspath(args.config)
    autockpt = os.path.join(os.path.dirname(args.config), "autockpt")
    try:
        in_own_mount_namespace(argv)
        say("full_disk: grow.c, checkpoints on a %d KiB tmpfs" % args.disk_kib)
        work = tempfile.mkdtemp(prefix="autockpt-full-disk-")
        ok = False
        disk = None
        try:
            build_args = types.SimpleNamespace(
                source=os.path.abspath(SOURCE), config=args.config, cc=None, opt="-O2",
                cflags=[], name="grow", stop_after_kill=False, build_only=True,
                timeout=args.timeout, also=[])
            _, prog = build(build_args, work)
            ref_run = Run("reference", [prog] + ARGS,
                          environment(os.path.join(work, "ref-ckpt"), "continue"), work, None)
            try:
                finished(ref_run, args, 0)
            finally:
                ref_run.cleanup()
            ref = complete_lines(ref_run.stdout)
            say("  reference: %d lines, last %r" % (len(ref), ref[-1] if ref else None))
            disk = Tmpfs(os.path.join(work, "disk"), args.disk_kib)
            continue_case(prog, disk.path, autockpt, ref, args, work)
            exit_case(prog, disk.path, autockpt, args, work)
            ok = True
        finally:
            if disk:
                disk.unmount()
            if ok and not args.keep:
                shutil.rmtree(work, ignore_errors=True)
            else:
                say("work directory kept: %s" % work)
    except SetupError as e:
        say("FAIL (setup): %s" % e)
        return 2
    except Fail as e:
        say("FAIL: %s" % e)
        return 1
    say("PASS: full disk")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
