#!/usr/bin/env python3
"""Checks the MPI lists of the pass against the families' mpi.h (docs/design.md M18): every name
in include/autockpt/redirects_mpi.def and mpi_allowed.def must be a function that OpenMPI's or
MPICH's mpi.h declares (a misspelt name would leave the real call refused, or an allowed one
unrecognised).  Prints the names only one family declares.  Exit 0 when all are found, 1 if not.

    mpi_names.py --include include/autockpt openmpi mpich
"""

import argparse
import os
import re
import subprocess
import sys


def header_text(family):
    """The text of a family's mpi.h and what it includes from its own directory."""
    if family == "openmpi":
        out = subprocess.run(["mpicc.openmpi", "--showme:incdirs"], capture_output=True,
                             text=True).stdout.split()
    else:
        out = [a[2:] for a in subprocess.run(["mpicc.mpich", "-show"], capture_output=True,
                                             text=True).stdout.split() if a.startswith("-I")]
    for d in out:
        if os.path.exists(os.path.join(d, "mpi.h")):
            text = ""
            for f in ["mpi.h", "mpi_proto.h", "mpio.h"]:  # MPICH splits its prototypes out
                if os.path.exists(os.path.join(d, f)):
                    text += open(os.path.join(d, f), errors="replace").read()
            return text
    sys.exit(f"mpi_names.py: no mpi.h found for {family} (looked in {out})")


def names(path):
    return re.findall(r"^AUTOCKPT_[A-Z_]+\((P?MPIX?_\w+)\)", open(path).read(), re.M)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--include", required=True, help="include/autockpt of the source tree")
    ap.add_argument("families", nargs="+")
    args = ap.parse_args()
    declared = {}
    for fam in args.families:
        text = " ".join(header_text(fam).split())
        declared[fam] = set(re.findall(r"\b(?:int|double|MPI_Aint)\s+(MPIX?_\w+)\s*\(", text))
    bad = 0
    for d in ["redirects_mpi.def", "mpi_allowed.def"]:
        listed = names(os.path.join(args.include, d))
        missing = [n for n in listed if not any(n in s for s in declared.values())]
        partial = [f"{n} ({', '.join(f for f in args.families if n in declared[f])})"
                   for n in listed if n not in missing and
                   not all(n in s for s in declared.values())]
        print(f"{d}: {len(listed)} names, {len(listed) - len(missing)} declared by "
              f"{' or '.join(args.families)}")
        for n in missing:
            print(f"  NOT DECLARED: {n}")
        if partial:
            print("  declared by one family only: " + "; ".join(partial))
        bad += len(missing)
    print("FAIL" if bad else "PASS")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
