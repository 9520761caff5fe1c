#!/usr/bin/env python3
"""Restarts one instrumented program many times in a row and reports the heap each checkpoint
saved: a program whose live data does not change must save the same heap after every restart
(issue 15).  Building is left to the caller (ckpt_cycle.py --build-only).

    restart_chain.py --autockpt build/bin/autockpt --workdir W --restarts 20 -- W/steady

Run k (k = 1 .. restarts+1) starts in W/ckpt with AUTOCKPT_POLL_INTERVAL=--polls and
AUTOCKPT_HALT_POLL=1.5*--polls: it takes one checkpoint at a fixed point of its own progress and
then halts; the harness waits for that generation's MANIFEST, kills the run (SIGKILL) and reads
the heap size from `autockpt inspect`.  Every run after the first must say it resumed.  The last
run gets --last-env NAME=VALUE added (a job whose environment differs, as under mpirun).
Prints one line per run and PASS when every heap of runs 1..restarts+1 with the same environment
is the same size; exit status 0 on PASS, 1 on FAIL.  Every wait is for an event, bounded by
--timeout; nothing depends on the machine's speed.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time


def manifest_gens(ckpt):
    out = []
    if os.path.isdir(ckpt):
        for name in os.listdir(ckpt):
            m = re.fullmatch(r"gen-(\d+)", name)
            if m and os.path.exists(os.path.join(ckpt, name, "MANIFEST")):
                out.append(int(m.group(1)))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--autockpt", required=True, help="the autockpt command")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--restarts", type=int, default=20)
    ap.add_argument("--polls", type=int, default=2000)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--last-env", action="append", default=[], metavar="NAME=VALUE",
                    help="added to the environment of one more run after the chain")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    ckpt = os.path.join(args.workdir, "ckpt")
    shutil.rmtree(ckpt, ignore_errors=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    base.update(AUTOCKPT_DIR=ckpt, AUTOCKPT_VERBOSE="1",
                AUTOCKPT_POLL_INTERVAL=str(args.polls), AUTOCKPT_HALT_POLL=str(args.polls + args.polls // 2))
    for kv in args.env:
        k, v = kv.split("=", 1)
        base[k] = v
    runs = [dict(base) for _ in range(args.restarts + 1)]
    if args.last_env:
        extra = dict(base)
        for kv in args.last_env:
            k, v = kv.split("=", 1)
            extra[k] = v
        runs.append(extra)

    heaps, failures = [], []
    for k, env in enumerate(runs, 1):
        before = manifest_gens(ckpt)
        out_path = os.path.join(args.workdir, f"run{k}.out")
        err_path = os.path.join(args.workdir, f"run{k}.err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            p = subprocess.Popen(args.command, env=env, stdout=out, stderr=err,
                                 start_new_session=True)
            deadline = time.monotonic() + args.timeout
            gen = None
            while time.monotonic() < deadline:
                new = [g for g in manifest_gens(ckpt) if g not in before]
                if new:
                    gen = max(new)
                    break
                if p.poll() is not None:
                    break
                time.sleep(0.01)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        err_text = open(err_path).read()
        if gen is None:
            failures.append(f"run {k}: no new checkpoint (exit {p.returncode}); stderr:\n"
                            + err_text[-2000:])
            break
        if k > 1 and "resuming from checkpoint" not in err_text:
            failures.append(f"run {k} did not resume; stderr:\n" + err_text[-2000:])
        info = subprocess.run([args.autockpt, "inspect", os.path.join(ckpt, f"gen-{gen:06d}")],
                              capture_output=True, text=True)
        m = re.search(r"^heap\s+.*\((\d+) bytes\)", info.stdout, re.M)
        if not m:
            failures.append(f"run {k}: inspect gave no heap size:\n{info.stdout}{info.stderr}")
            break
        heap = int(m.group(1))
        image = sum(os.path.getsize(os.path.join(ckpt, f"gen-{gen:06d}", f))
                    for f in os.listdir(os.path.join(ckpt, f"gen-{gen:06d}")))
        heaps.append(heap)
        extra = " (changed environment)" if k > args.restarts + 1 else ""
        print(f"run {k}: checkpoint {gen}, heap {heap} bytes, image {image} bytes{extra}")
    chain = heaps[:args.restarts + 1]
    if chain and len(set(chain)) != 1:
        failures.append(f"the heap changed across restarts: {chain}")
    for f in failures:
        print("FAIL:", f)
    print("PASS" if not failures else "FAIL", f"{len(heaps)} runs, heap {sorted(set(heaps))}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
