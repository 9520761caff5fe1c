#!/usr/bin/env python3
"""Sizes of the images of a checkpoint directory (incremental checkpoints, docs/design.md R24):
prints each generation's image size as a fraction of the first (full) one, and fails when an
incremental one (any but the first and the generations named with --full) is larger than
--at-most of it.

    image_sizes.py DIR --at-most 0.10 [--full 4]
"""
import argparse
import os
import re
import sys

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--at-most", type=float, required=True)
p.add_argument("--full", type=int, action="append", default=[])
a = p.parse_args()
gens = sorted(int(m.group(1)) for n in os.listdir(a.dir) for m in [re.fullmatch(r"gen-(\d+)", n)] if m)
if len(gens) < 2:
    sys.exit("image_sizes: fewer than two generations in %s" % a.dir)
size = {g: os.path.getsize(os.path.join(a.dir, "gen-%06d" % g, "rank-00000.ackpt")) for g in gens}
full = size[gens[0]]
worst = 0.0
for g in gens:
    ratio = size[g] / full
    kind = "full" if g == gens[0] or g in a.full else "incremental"
    if kind == "incremental":
        worst = max(worst, ratio)
    print("gen %d: %s, %.3f of the first image" % (g, kind, ratio))
print("largest incremental image: %.3f of the full one (at most %.2f): %s" %
      (worst, a.at_most, "OK" if worst <= a.at_most else "TOO LARGE"))
sys.exit(0 if worst <= a.at_most else 1)
