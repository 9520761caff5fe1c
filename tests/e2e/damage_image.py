#!/usr/bin/env python3
"""Damages a checkpoint image on purpose, for the bad-input tests: flips bytes inside one section
or truncates the file.  Knows only the image layout of runtime/image/format.h (header, section
table); what the runtime makes of the damage is for the tests to check.

    damage_image.py flip Heap PATH [--bytes N]   invert N bytes (default 16) mid-section
    damage_image.py truncate PATH [--keep F]     cut the file to a fraction F (default 0.5)

PATH is an image file, a gen-NNNNNN directory (its rank-00000.ackpt) or a checkpoint directory
(the image of its newest committed generation).  Prints what it changed, naming the file.
"""

import argparse
import os
import re
import struct
import sys

MAGIC = b"AUTOCKPT"
HEADER = struct.Struct("<8sIIIIQ")          # magic, version, header_size, sections, flags, table
SECTION = struct.Struct("<IIQQQQ")          # kind, flags, offset, stored, raw, checksum
KINDS = {"Meta": 1, "Globals": 2, "Heap": 3, "Frames": 4, "Files": 5, "Libc": 6, "Mpi": 7,
         "Cuda": 8}


def resolve(path):
    if os.path.isfile(path):
        return path
    if os.path.isfile(os.path.join(path, "MANIFEST")):
        return os.path.join(path, "rank-00000.ackpt")
    gens = sorted((int(m.group(1)), name) for name in os.listdir(path)
                  for m in [re.fullmatch(r"gen-(\d+)", name)]
                  if m and os.path.isfile(os.path.join(path, name, "MANIFEST")))
    if not gens:
        sys.exit("damage_image: %s holds no committed generation" % path)
    return os.path.join(path, gens[-1][1], "rank-00000.ackpt")


def sections(data, path):
    if len(data) < HEADER.size or data[:8] != MAGIC:
        sys.exit("damage_image: %s is not an autockpt image" % path)
    _, _, _, count, _, table = HEADER.unpack_from(data)
    return [SECTION.unpack_from(data, table + i * SECTION.size) for i in range(count)]


def flip(args):
    path = resolve(args.path)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        kind = KINDS[args.section]
        entry = next((e for e in sections(data, path) if e[0] == kind), None)
        if entry is None or entry[3] == 0:
            sys.exit("damage_image: %s has no %s bytes to flip" % (path, args.section))
        _, _, offset, stored, _, _ = entry
        n = min(args.bytes, stored)
        at = offset + (stored - n) // 2
        f.seek(at)
        f.write(bytes(b ^ 0xFF for b in data[at:at + n]))
    print("flipped %d bytes at offset %d (%s section) of %s" % (n, at, args.section, path))


def truncate(args):
    path = resolve(args.path)
    size = os.path.getsize(path)
    new = int(size * args.keep)
    os.truncate(path, new)
    print("truncated %s from %d to %d bytes" % (path, size, new))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("flip", help="invert bytes in the middle of a section")
    f.add_argument("section", choices=sorted(KINDS))
    f.add_argument("path")
    f.add_argument("--bytes", type=int, default=16)
    t = sub.add_parser("truncate", help="cut the image short")
    t.add_argument("path")
    t.add_argument("--keep", type=float, default=0.5, help="fraction of the file kept")
    args = p.parse_args()
    {"flip": flip, "truncate": truncate}[args.command](args)


if __name__ == "__main__":
    main()
