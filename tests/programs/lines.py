#!/usr/bin/env python3
"""Writes N lines of pseudo-random numbers (the same N lines every time) to stdout: the input
file of tests/programs/files.c and fstream.cpp.

    lines.py N
"""
import random
import sys

rng = random.Random(7)
for _ in range(int(sys.argv[1])):
    print(" ".join(str(rng.randint(0, 10 ** 6)) for _ in range(rng.randint(1, 12))))
