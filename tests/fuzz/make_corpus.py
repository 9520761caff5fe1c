#!/usr/bin/env python3
"""Makes the fuzzer's seed corpus (tests/fuzz/corpus) from real images: examples/count.c built
with autockpt at -O2 and at -O0 -g (saved variables with names), each checkpointed once and
killed by the end-to-end harness.  Each image is one seed, and its Meta section another (the
target decodes an input that is not an image as a metadata archive).

    python3 tests/fuzz/make_corpus.py --config build/bin/autockpt-config
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
HEADER = struct.Struct("<8sIIIIQ")     # magic, version, header_size, sections, flags, table
SECTION = struct.Struct("<IIQQQQ")     # kind, flags, offset, stored, raw, checksum
META = 1


def meta_section(image):
    _, _, _, count, _, table = HEADER.unpack_from(image)
    for k in range(count):
        kind, _, offset, stored, _, _ = SECTION.unpack_from(image, table + k * SECTION.size)
        if kind == META:
            return image[offset:offset + stored]
    sys.exit("make_corpus: the image has no Meta section")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="the build's bin/autockpt-config")
    p.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, flags in [("count-O2", ["-O2"]), ("count-O0-g", ["-O0", "--cflags=-g"])]:
        with tempfile.TemporaryDirectory() as work:
            subprocess.run([sys.executable, os.path.join(SRC, "tests/e2e/ckpt_cycle.py"),
                            "--config", args.config, os.path.join(SRC, "examples/count.c")] +
                           flags + ["--args", "8", "--interval", "0.2", "--kill-after-gen", "1",
                                    "--kill-delay-ms", "50", "--stop-after-kill",
                                    "--workdir", work], check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(work, "ckpt/gen-000001/rank-00000.ackpt"), "rb") as f:
                image = f.read()
        for suffix, data in [(".ackpt", image), (".meta", meta_section(image))]:
            with open(os.path.join(args.out, name + suffix), "wb") as f:
                f.write(data)
            print("%s%s: %d bytes" % (name, suffix, len(data)))


if __name__ == "__main__":
    main()
