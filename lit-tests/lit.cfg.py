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
    ("%damage-image", f"{config.python} {config.autockpt_src_dir}/tests/e2e/damage_image.py"),
    ("%examples", f"{config.autockpt_src_dir}/examples"),
    ("%build-systems", f"{config.autockpt_src_dir}/tests/build-systems"),
    ("%python", config.python),
]
config.available_features.add(f"llvm-{config.llvm_major}")
if os.geteuid() == 0:
    config.available_features.add("root")  # may give files to another user (chown)
# The end-to-end tests run programs that checkpoint into directories: keep them per test.
config.environment["AUTOCKPT_VERBOSE"] = "1"
for var in ["HOME", "TMPDIR", "PATH"]:
    if var in os.environ:
        config.environment[var] = os.environ[var]
