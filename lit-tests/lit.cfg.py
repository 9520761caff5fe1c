# lit configuration: substitutions for the pass plugin, the LLVM tools and the e2e harness.
import os
import lit.formats

config.name = "autockpt"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".ll", ".test", ".c", ".cpp"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)

plugin = os.path.join(config.autockpt_lib_dir, "libautockpt-pass.so")
tools = config.llvm_tools_dir
config.substitutions += [
    ("%opt", f"{tools}/opt -load-pass-plugin={plugin}"),
    ("%plugin", plugin),
    ("%clang-plugin", os.path.join(config.autockpt_lib_dir, "libautockpt-clang.so")),
    ("%clangxx", f"{tools}/clang++"),
    ("%FileCheck", f"{tools}/FileCheck"),
    ("%clang", f"{tools}/clang"),
    ("%autockpt-config", f"{config.autockpt_bin_dir}/autockpt-config"),
    ("%autockpt-cc", f"{config.autockpt_bin_dir}/autockpt-cc"),
    ("%autockpt-cxx", f"{config.autockpt_bin_dir}/autockpt-c++"),
    ("%autockpt-build", os.path.dirname(config.autockpt_bin_dir)),
    ("%autockpt", f"{config.autockpt_bin_dir}/autockpt"),
    ("%e2e", f"{config.python} {config.autockpt_src_dir}/tests/e2e/ckpt_cycle.py "
             f"--config {config.autockpt_bin_dir}/autockpt-config"),
    ("%files-cycle", f"{config.python} {config.autockpt_src_dir}/tests/e2e/files_cycle.py "
                     f"--config {config.autockpt_bin_dir}/autockpt-config"),
    ("%full-disk", f"{config.python} {config.autockpt_src_dir}/tests/e2e/full_disk.py "
                   f"--config {config.autockpt_bin_dir}/autockpt-config"),
    ("%programs", f"{config.autockpt_src_dir}/tests/programs"),
    ("%restart-chain", f"{config.python} {config.autockpt_src_dir}/tests/e2e/restart_chain.py "
                       f"--autockpt {config.autockpt_bin_dir}/autockpt"),
    ("%async-writer", f"{config.python} {config.autockpt_src_dir}/tests/e2e/async_writer.py"),
    ("%damage-image", f"{config.python} {config.autockpt_src_dir}/tests/e2e/damage_image.py"),
    ("%examples", f"{config.autockpt_src_dir}/examples"),
    ("%build-systems", f"{config.autockpt_src_dir}/tests/build-systems"),
    ("%python", config.python),
    ("%mpi-cycle", f"{config.python} {config.autockpt_src_dir}/tests/e2e/mpi_cycle.py "
                   f"--config {config.autockpt_bin_dir}/autockpt-config"),
]
config.available_features.add(f"llvm-{config.llvm_major}")
# MPI end-to-end tests: a family is there when this build has its layer and its launcher exists.
import shutil
import subprocess
try:
    families = subprocess.run([f"{config.autockpt_bin_dir}/autockpt-config", "--mpi-families"],
                              capture_output=True, text=True).stdout.split()
except OSError:
    families = []
for family, launcher in [("openmpi", "mpirun.openmpi"), ("mpich", "mpiexec.mpich")]:
    if family in families and shutil.which(launcher):
        config.available_features.add(f"mpi-{family}")
if os.geteuid() == 0:
    config.available_features.add("root")  # may give files to another user (chown)
# Slurm (tests/slurm/cluster.sh starts a one-node cluster on loopback): installed, and root.
_sbin = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
_slurm_missing = [c for c in ["slurmctld", "slurmd", "sbatch", "srun", "scontrol", "munged"]
                  if not shutil.which(c, path=_sbin)]
if _slurm_missing or os.geteuid() != 0:
    lit_config.note("the Slurm tests are unsupported: " +
                    (f"{', '.join(_slurm_missing)} not installed (setup.sh installs Slurm)"
                     if _slurm_missing else "they start slurmctld and slurmd, which needs root"))
else:
    config.available_features.add("slurm")
config.substitutions.append(
    ("%slurm-mpi", f"bash {config.autockpt_src_dir}/tests/slurm/mpi-slurm-test.sh "
                   f"{os.path.dirname(config.autockpt_bin_dir)}"))
# Incremental checkpoints (docs/design.md R24) track written pages with userfaultfd's
# asynchronous write protection and PAGEMAP_SCAN: Linux 6.7 or later.
import platform
try:
    _kernel = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2])
except ValueError:
    _kernel = (0, 0)
if _kernel >= (6, 7):
    config.available_features.add("incremental")
else:
    lit_config.note("the incremental checkpoint tests are unsupported: Linux %s has no "
                    "asynchronous userfaultfd write protection (6.7 has)" % platform.release())
# The writer of a background checkpoint puts the program's heap back into huge pages with
# process_madvise(MADV_COLLAPSE) (docs/design.md R26): Linux 6.1 or later, and transparent huge
# pages not turned off.
try:
    _thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
except OSError:
    _thp = "[never]"
if _kernel >= (6, 1) and "[never]" not in _thp:
    config.available_features.add("thp-collapse")
else:
    lit_config.note("the huge-page test of background checkpoints is unsupported: Linux %s, "
                    "transparent huge pages %s (it needs 6.1 and not [never])"
                    % (platform.release(), _thp.strip()))
# The end-to-end tests run programs that checkpoint into directories: keep them per test.
config.environment["AUTOCKPT_VERBOSE"] = "1"
for var in ["HOME", "TMPDIR", "PATH"]:
    if var in os.environ:
        config.environment[var] = os.environ[var]

# OpenMP (runtime/omp/): the feature `openmp` and %omp-cflags, the flags that build an OpenMP
# program with this clang.  Debian's libomp-N-dev packages conflict with one another, so a clang
# without an OpenMP runtime of its own uses another LLVM's libomp: its omp.h alone (the rest of
# that clang's headers would shadow this one's) and its libomp.so.
def find_openmp():
    import glob, subprocess, tempfile
    clang = f"{tools}/clang"
    candidates = [[]]
    for lib in sorted(glob.glob("/usr/lib/llvm-*/lib/libomp.so"), reverse=True):
        root = os.path.dirname(os.path.dirname(lib))
        headers = glob.glob(f"{root}/lib/clang/*/include/omp.h")
        if not headers:
            continue
        inc = os.path.join(config.test_exec_root, "omp-include", os.path.basename(root))
        os.makedirs(inc, exist_ok=True)
        if not os.path.exists(os.path.join(inc, "omp.h")):
            os.symlink(headers[0], os.path.join(inc, "omp.h"))
        libdir = os.path.dirname(lib)
        candidates.append([f"-I{inc}", f"-L{libdir}", f"-Wl,-rpath,{libdir}"])
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void) { int n = 0;\n"
                    "#pragma omp parallel reduction(+:n)\n n += omp_get_thread_num() >= 0;\n"
                    " return n > 0 ? 0 : 1; }\n")
        for flags in candidates:
            cmd = [clang, "-fopenmp", *flags, src, "-o", os.path.join(tmp, "t")]
            if subprocess.run(cmd, capture_output=True).returncode == 0:
                return " ".join(["-fopenmp", *flags])
    return None

omp_cflags = find_openmp()
if omp_cflags:
    config.available_features.add("openmp")
    config.substitutions.append(("%omp-cflags", omp_cflags))
    # flang: the same libomp, without omp.h (Fortran has its omp_lib module).
    config.substitutions.append(("%omp-fflags", " ".join(
        f for f in omp_cflags.split() if not f.startswith("-I"))))
else:
    lit_config.note(f"no OpenMP runtime that {tools}/clang can use: the OpenMP tests are "
                    "unsupported (install libomp-dev)")

# Fortran (docs/design.md F6): the feature `fortran` where this autockpt was built with a flang
# (autockpt-config --fc answers); the tests build with it through ckpt_cycle.py.
import subprocess
_fc = subprocess.run([f"{config.autockpt_bin_dir}/autockpt-config", "--fc"], capture_output=True,
                     text=True)
if _fc.returncode == 0 and _fc.stdout.strip():
    config.available_features.add("fortran")
    config.substitutions.append(("%fc", _fc.stdout.strip()))
else:
    lit_config.note("Fortran tests unsupported: " + _fc.stderr.strip())

# LIT_REQUIRE_FEATURES (set by `./setup.sh test`, which installs everything these need): a
# feature named there and missing here is an error, not tests quietly unsupported.  Reason: on a
# fresh machine Slurm used to be installed only by the first Slurm test, after lit had looked, and
# the MPI job under Slurm was skipped in CI without anyone seeing it.
_required = os.environ.get("LIT_REQUIRE_FEATURES", "").split()
_missing = [f for f in _required if f not in config.available_features]
if _missing:
    lit_config.fatal(f"LIT_REQUIRE_FEATURES names {', '.join(_missing)}, which this machine "
                     "lacks (see the notes above); install what they need (./setup.sh test "
                     "does), or unset LIT_REQUIRE_FEATURES to run without those tests")

# A hung test fails after 20 minutes (the slowest passes in under one) with its name and output,
# instead of holding the whole suite until CI's limit; lit needs psutil to kill a test's processes
# (setup.sh installs python3-psutil).  A guard, not a timing assumption: nothing waits for it.
try:
    import psutil  # noqa: F401
    if not lit_config.maxIndividualTestTime:
        lit_config.maxIndividualTestTime = 1200
except ImportError:
    lit_config.note("python3-psutil is missing: a hung test holds the suite (no per-test timeout)")
