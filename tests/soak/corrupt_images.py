#!/usr/bin/env python3
"""Corrupt and foreign image campaign (issue 12): damages a real checkpoint in thousands of ways
and restarts from each, by hand, not in CI.

examples/count.c is built plainly and with autockpt (by tests/e2e/ckpt_cycle.py's build), run
with two checkpoints and killed: a directory with gen-000001 and gen-000002.  Each case copies
that directory, damages generation 2 and runs the same command again:

  flip      one byte of the image inverted, sampled over the bytes a restart reads (header,
            sections, section table), and a few in the alignment padding nothing reads
  truncate  the image cut to a sampled length
  foreign   the checkpoint directory of another program (Core/Inputs/heap.c); an image of the
            same source built at -O1; the image's format version changed (checksum kept valid)

Each must end in one of these, with a message on stderr:
  fallback  "cannot be used" and "falling back", resumed from generation 1, output identical
            to that of a restart from an intact generation 1
  stop-70   status 70, "autockpt: error:", nothing printed
  unread    (padding only) resumed from generation 2, output identical to an intact one's
Anything else is a failure: a signal (crash), another status, a timeout, a wrong output, or
damage that was not detected.  Prints the count of each outcome per kind; exit status 1 on any
failure.  Failed cases are kept under --keep-failures.

    python3 tests/soak/corrupt_images.py --config build/bin/autockpt-config --jobs 2
"""

import argparse
import collections
import concurrent.futures
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
import ckpt_cycle  # noqa: E402  (the harness: building, running, killing)

HEADER = struct.Struct("<8sIIIIQ")     # magic, version, header_size, sections, flags, table
SECTION = struct.Struct("<IIQQQQ")     # kind, flags, offset, stored, raw, checksum
HEADER_SIZE = 256
EXIT_ERROR = 70
IMAGE = "gen-000002/rank-00000.ackpt"


def checkpointed(config, source, opt, args, work):
    """Builds `source` plain and instrumented into `work` and leaves work/ckpt with two
    committed generations; returns (plain, instrumented, argv)."""
    h = ckpt_cycle.parse_args(["--config", config, source, opt, "--args", args, "--interval",
                               "0.1", "--kill-after-gen", "2", "--kill-delay-ms", "20",
                               "--env", "AUTOCKPT_MAX_CHECKPOINTS=2", "--workdir", work])
    os.makedirs(work, exist_ok=True)
    plain, instrumented = ckpt_cycle.build(h, work)
    h.stop_after_kill = True
    ckpt_cycle.stop_after_kill_mode(h, instrumented, work)
    if ckpt_cycle.committed_generations(os.path.join(work, "ckpt")) != {1, 2}:
        sys.exit("corrupt_images: the setup run did not leave generations 1 and 2")
    return plain, instrumented, h.prog_args


def regions(image):
    """(bytes a restart reads, padding) of an image, as lists of offsets."""
    _, _, _, count, _, table = HEADER.unpack_from(image)
    read = set(range(HEADER_SIZE)) | set(range(table, table + count * SECTION.size))
    for k in range(count):
        _, _, offset, stored, _, _ = SECTION.unpack_from(image, table + k * SECTION.size)
        read |= set(range(offset, offset + stored))
    return sorted(read), sorted(set(range(len(image))) - read)


def restart(exe, argv, ckpt, timeout):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env.update(AUTOCKPT_DIR=ckpt, AUTOCKPT_VERBOSE="1")
    try:
        r = subprocess.run([exe] + argv, env=env, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", ""
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def judge(rc, out, err, expect):
    """The outcome of one restart: fallback, stop-70, unread, or a failure's name."""
    if rc is None:
        return "FAIL timeout"
    if rc < 0:
        return "FAIL crash (signal %d)" % -rc
    if rc == EXIT_ERROR:
        return "stop-70" if "autockpt: error:" in err and not out else "FAIL 70 without message"
    if rc != 0:
        return "FAIL status %d" % rc
    if "resuming from checkpoint 1 " in err:
        if "cannot be used" not in err or "falling back" not in err:
            return "FAIL fell back silently"
        return "fallback" if out == expect[1] else "FAIL wrong output after fallback"
    if "resuming from checkpoint 2 " in err:
        return "unread" if out == expect[2] else "FAIL wrong output from gen 2"
    return "FAIL did not resume"


def damage_case(kind, how, base, keep, exe, argv, expect, timeout):
    """Copies `base`, applies `how` (a function of the image path) and restarts."""
    work = tempfile.mkdtemp(prefix="autockpt-corrupt-")
    ckpt = os.path.join(work, "ckpt")
    shutil.copytree(base, ckpt)
    how(os.path.join(ckpt, IMAGE), ckpt)
    rc, out, err = restart(exe, argv, ckpt, timeout)
    outcome = judge(rc, out, err, expect)
    if outcome == "unread" and kind != "flip-padding":
        outcome = "FAIL undetected damage"
    if outcome.startswith("FAIL") and keep:
        os.makedirs(keep, exist_ok=True)
        dest = os.path.join(keep, "%s-%d" % (kind, len(os.listdir(keep))))
        shutil.move(work, dest)
        with open(os.path.join(dest, "result.txt"), "w") as f:
            f.write("%s\nstatus %s\n--- stdout\n%s--- stderr\n%s" % (outcome, rc, out, err))
    else:
        shutil.rmtree(work, ignore_errors=True)
    if outcome == "stop-70":
        outcome += ": " + reason(err)
    return kind, outcome


def reason(err):
    """The gist of an error message, without the paths that differ from case to case."""
    line = next((l for l in err.splitlines() if "error:" in l), "")
    line = re.sub(r"/tmp/autockpt-corrupt-\w+/", "", line)
    return re.sub(r"\b[0-9a-f]{40}\b", "<build-id>", line)[:100]


def flip(offset):
    def apply(path, _):
        with open(path, "r+b") as f:
            f.seek(offset)
            b = f.read(1)
            f.seek(offset)
            f.write(bytes([b[0] ^ 0xFF]))
    return apply


def truncate(length):
    return lambda path, _: os.truncate(path, length)


def replace_dir(other):
    def apply(_, ckpt):
        shutil.rmtree(ckpt)
        shutil.copytree(other, ckpt)
    return apply


def other_version(path, _):
    with open(path, "r+b") as f:
        f.seek(8)
        version, = struct.unpack("<I", f.read(4))
        f.seek(8)
        # A full image is version 2; this build reads 3 too (incremental images, R24).
        f.write(struct.pack("<I", version + 2))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="the build's bin/autockpt-config")
    p.add_argument("--flips", type=int, default=2000, help="sampled byte flips in read bytes")
    p.add_argument("--padding", type=int, default=100, help="sampled byte flips in padding")
    p.add_argument("--truncations", type=int, default=600, help="sampled truncation points")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30, help="per restart")
    p.add_argument("--keep-failures", metavar="DIR", help="move failed cases here")
    args = p.parse_args()
    rng = random.Random(args.seed)
    count = os.path.join(SRC, "examples/count.c")
    top = tempfile.mkdtemp(prefix="autockpt-corrupt-setup-")
    try:
        t0 = time.monotonic()
        plain, exe, argv = checkpointed(args.config, count, "-O2", "5", os.path.join(top, "count"))
        base = os.path.join(top, "count", "ckpt")
        ref = subprocess.run([plain] + argv, capture_output=True, text=True).stdout
        # What a restart from each intact generation prints (on copies: a run that finishes
        # leaves COMPLETED behind).
        for g in (1, 2):
            shutil.copytree(base, os.path.join(top, "intact%d" % g))
        shutil.rmtree(os.path.join(top, "intact1", "gen-000002"))
        expect = {g: restart(exe, argv, os.path.join(top, "intact%d" % g), args.timeout)[1]
                  for g in (1, 2)}
        for g, out in expect.items():
            if not out or not ref.endswith(out):
                sys.exit("corrupt_images: a restart from intact generation %d printed %r, not a "
                         "tail of the plain run's output %r" % (g, out, ref))
        _, _, heapargs = checkpointed(args.config, os.path.join(
            SRC, "lit-tests/EndToEnd/Core/Inputs/heap.c"), "-O2", "60", os.path.join(top, "heap"))
        checkpointed(args.config, count, "-O1", "8", os.path.join(top, "count-O1"))

        with open(os.path.join(base, IMAGE), "rb") as f:
            image = f.read()
        read, padding = regions(image)
        cases = [("flip", flip(o)) for o in rng.sample(read, min(args.flips, len(read)))]
        cases += [("flip-padding", flip(o))
                  for o in rng.sample(padding, min(args.padding, len(padding)))]
        cases += [("truncate", truncate(n))
                  for n in rng.sample(range(len(image)), min(args.truncations, len(image)))]
        cases += [("foreign: another program", replace_dir(os.path.join(top, "heap", "ckpt"))),
                  ("foreign: same source at -O1",
                   replace_dir(os.path.join(top, "count-O1", "ckpt"))),
                  ("foreign: the next format version", other_version)]
        print("image %d bytes (%d read, %d padding); %d cases, %d jobs" % (
            len(image), len(read), len(padding), len(cases), args.jobs), flush=True)
        tally = collections.Counter()
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(damage_case, kind, how, base, args.keep_failures, exe, argv,
                                   expect, args.timeout) for kind, how in cases]
            for n, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                tally[fut.result()] += 1
                if n % 200 == 0:
                    print("  %d/%d done" % (n, len(cases)), flush=True)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    failures = sum(n for (_, outcome), n in tally.items() if outcome.startswith("FAIL"))
    print("\n%-28s %-60s %6s" % ("case", "outcome", "count"))
    for (kind, outcome), n in sorted(tally.items()):
        print("%-28s %-60s %6d" % (kind, outcome, n))
    print("\n%d cases in %.0f s: %d failures (crashes, wrong resumes, undetected damage)" % (
        sum(tally.values()), time.monotonic() - t0, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
