#!/bin/bash
# One command from a fresh Debian 12 machine to a working autockpt: installs the packages that
# are missing (apt, as root), builds, then runs the demo or every test.  What is built and tested
# is left to CMake and ctest.
#
#   ./setup.sh demo   install, build (LLVM 19), run examples/demo.sh
#   ./setup.sh test   install, build for LLVM 19 (build/) and LLVM 22 (build-22/), run the lit
#                     tests against LLVM 22, then every test (unit, lit, end-to-end) with ctest
#   ./setup.sh build  install and build only
#
# JOBS (default 2) sets the build's parallelism.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(clang-19 llvm-19-dev libclang-19-dev llvm-19-tools libboost-serialization-dev
          libgtest-dev libgmock-dev libxxhash-dev libzstd-dev zstd ccache cmake ninja-build
          python3 git file binutils gcc make pkg-config libclang-rt-19-dev)
PACKAGES_22=(clang-22 llvm-22-dev llvm-22-tools libclang-22-dev)   # from bookworm-security
JOBS=${JOBS:-2}
updated=no

say() { printf '\n=== %s\n' "$*"; }

# (No `cmd | grep -q` here: with pipefail, grep's early exit can fail the pipeline.)
missing() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == *" installed" ]] || echo "$p"
  done
}

# apt-get update (once, and only when something is missing) and install what is missing.
install() {
  local need
  mapfile -t need < <(missing "$@")
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing packages: ${need[*]}; run as root, or install them and run again" >&2
    exit 1
  fi
  say "Installing ${need[*]}"
  if [ $updated = no ]; then
    apt-get update
    updated=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=900 \
    --no-install-recommends "${need[@]}"
}

# Whether apt can install every package named (a candidate version exists).
available() {
  local p policy
  for p in "$@"; do
    policy=$(apt-cache policy "$p" 2>/dev/null || true)
    [[ $policy =~ Candidate:\ [0-9] ]] || return 1
  done
}

build() {  # build DIR [CMAKE ARGS...]
  local dir=$1
  shift
  say "Building $dir $*"
  mkdir -p "$dir"
  cmake -S . -B "$dir" -G Ninja "$@" > "$dir/configure.log" 2>&1 || {
    cat "$dir/configure.log"
    exit 1
  }
  ninja -C "$dir" -j "$JOBS"
}

# CMake needs a host C and C++ compiler.  A fresh Debian has no g++: use the clang just installed.
host_compiler() {
  if [ -z "${CXX:-}" ] && ! command -v c++ > /dev/null; then
    export CC=clang-19 CXX=clang++-19
  fi
}

mode=${1:-}
case "$mode" in
  demo | build)
    install "${PACKAGES[@]}"
    host_compiler
    build build
    [ "$mode" = build ] || { say "Running examples/demo.sh"; examples/demo.sh build; }
    ;;
  test)
    start=$SECONDS
    install "${PACKAGES[@]}"
    llvm22=yes
    if [ -n "$(missing "${PACKAGES_22[@]}")" ]; then
      if [ $updated = no ] && [ "$(id -u)" -eq 0 ]; then
        apt-get update
        updated=yes
      fi
      if available "${PACKAGES_22[@]}"; then
        install "${PACKAGES_22[@]}"
      else
        llvm22=no
        echo "setup.sh: ${PACKAGES_22[*]} cannot be installed (bookworm-security is not in" \
             "the apt sources?): the LLVM 22 build and its tests are skipped" >&2
      fi
    fi
    host_compiler
    build build
    [ $llvm22 = no ] || build build-22 -DAUTOCKPT_LLVM_MAJOR=22
    failed22=no
    if [ $llvm22 = yes ]; then
      say "Tests of the pass plugin and end-to-end tests against LLVM 22 (build-22)"
      ctest --test-dir build-22 -R lit --output-on-failure || failed22=yes
    fi
    say "All tests against LLVM 19 (build): unit, lit and end-to-end  [$((SECONDS - start)) s so far]"
    if [ $failed22 = yes ]; then
      ctest --test-dir build --output-on-failure || true
      echo "setup.sh: the tests against LLVM 22 (build-22) failed: see above" >&2
      exit 1
    fi
    ctest --test-dir build --output-on-failure
    ;;
  *)
    echo "usage: ./setup.sh demo | test | build   (see the top of this file)" >&2
    exit 2
    ;;
esac
