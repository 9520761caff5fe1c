#!/usr/bin/env python3
"""The writer of an asynchronous checkpoint (AUTOCKPT_ASYNC=yes, docs/design.md R21) killed
before it commits: the program's previous generation must be the one a restart uses.

    async_writer.py --workdir W --polls P -- W/count 30 1

Run 1 checkpoints every P polls with AUTOCKPT__HOLD_BEFORE_COMMIT=H (--hold, default 2: the
writer of generation H writes its image, says so and waits instead of committing) and halts at
poll (H+A)P+1 (--after, default 0: checkpoints asked for after H, which wait for its writer).  The
harness waits for that line, kills the writer (SIGKILL to the pid the line names), waits for the
halt, and checks that generation H is not committed while H-1 is.  It kills the program, runs
the command again, and the second run must say it resumed from the newest committed checkpoint
(H-1, or H+A after a checkpoint taken once the writer was gone) and print, after its resumed
lines, exactly the lines an uninterrupted run prints (--reference, a file).  With --env
AUTOCKPT_INCREMENTAL=yes it also says which images were full and which incremental (R24: the
one after a failed write must be full).  Every wait is for an
event, bounded by --timeout.  Prints what it saw and PASS; exit status 0 on PASS, 1 on FAIL.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time


def committed(ckpt, gen):
    return os.path.exists(os.path.join(ckpt, "gen-%06d" % gen, "MANIFEST"))


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise SystemExit("FAIL: timed out waiting for %s" % what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--polls", type=int, default=3)
    ap.add_argument("--reference", required=True, help="stdout of an uninterrupted run")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--hold", type=int, default=2, help="the generation whose writer is killed")
    ap.add_argument("--after", type=int, default=0,
                    help="checkpoints asked for after it, before the halt")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    ckpt = os.path.join(args.workdir, "ckpt-writer")
    shutil.rmtree(ckpt, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env.update(AUTOCKPT_DIR=ckpt, AUTOCKPT_VERBOSE="2", AUTOCKPT_ASYNC="yes")
    env.update(item.split("=", 1) for item in args.env)
    hold, after = args.hold, args.after
    first = dict(env, AUTOCKPT_POLL_INTERVAL=str(args.polls),
                 AUTOCKPT_HALT_POLL=str((hold + after) * args.polls + 1),
                 AUTOCKPT__HOLD_BEFORE_COMMIT=str(hold))
    out1, err1 = (os.path.join(args.workdir, "writer-run1." + s) for s in ("out", "err"))
    with open(out1, "wb") as o, open(err1, "wb") as e:
        p = subprocess.Popen(args.command, stdout=o, stderr=e, env=first, start_new_session=True)
    try:
        text = lambda: open(err1, errors="replace").read()
        m = wait_for(lambda: re.search(r"checkpoint %d: process (\d+) holds before committing"
                                       % hold, text()), args.timeout,
                     "the writer of generation %d to hold" % hold)
        writer = int(m.group(1))
        if writer == p.pid:
            raise SystemExit("FAIL: generation %d was written by the program itself, not a "
                             "writer" % hold)
        print("run 1: generation %d committed: %s; writer of generation %d holds (a process of "
              "its own)" % (hold - 1, "yes" if committed(ckpt, hold - 1) else "no", hold))
        os.kill(writer, signal.SIGKILL)
        # The writer is an orphan: its end is seen through /proc, not wait().
        wait_for(lambda: not os.path.exists("/proc/%d" % writer) or
                 open("/proc/%d/stat" % writer).read().split(")")[1].split()[0] == "Z",
                 args.timeout, "the writer to die")
        wait_for(lambda: "halted at poll" in text(), args.timeout, "the program to halt")
        if after == 0:
            print("run 1: writer killed; generation %d committed: %s; the program still runs: %s"
                  % (hold, "yes" if committed(ckpt, hold) else "no",
                     "yes" if p.poll() is None else "no"))
        else:  # the checkpoints asked for after it reuse its number; run 1 waits for them
            # (halted, the program still commits in the background what it took before the halt:
            # a kill before that commit resumed run 2 from the generation before, in a loaded run)
            wait_for(lambda: committed(ckpt, hold + after - 1), args.timeout,
                     "the checkpoints asked for after it to be committed")
            print("run 1: writer killed; the program still runs: %s" %
                  ("yes" if p.poll() is None else "no"))
        for gen, kind in re.findall(r"checkpoint (\d+) \(.*\) written to [^:]*: [^,(]*(, full|, "
                                    r"incremental on \d+)", text()):
            print("run 1: checkpoint %s%s" % (gen, kind))
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    r = subprocess.run(args.command, env=env, capture_output=True, timeout=args.timeout)
    err = r.stderr.decode(errors="replace")
    m = re.search(r"resuming from checkpoint (\d+)", err)
    print("run 2: exit %d, resumed from checkpoint %s" % (r.returncode, m.group(1) if m else "none"))
    ref = open(args.reference, "rb").read()
    # Run 2 continues from the newest committed checkpoint: it prints exactly what the reference
    # printed after the byte where stdout stood at that checkpoint.
    newest = max((g for g in range(1, hold + after + 1) if committed(ckpt, g)), default=0)
    # (The last such line: a number whose write failed is given to the next checkpoint again.)
    at = re.findall(r"checkpoint %d:.* stdout at byte (\d+)" % newest,
                    open(err1, errors="replace").read())
    ok = bool(r.returncode == 0 and m and m.group(1) == str(newest) and at)
    ok = ok and r.stdout == ref[int(at[-1]):] and len(r.stdout) > 0
    print("run 2 ended as the reference: %s" % ("yes" if ok else "no"))
    if not ok:
        print(err[-2000:])
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
