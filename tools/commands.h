// The `autockpt` subcommands that look at checkpoints on disk (list, inspect, verify, clean);
// tools/autockpt.cpp parses the subcommand's name and dispatches here.  Each takes the arguments
// after its own name and returns the exit status: 0 success, 1 failure (said on stderr), 2 usage.
#pragma once

namespace autockpt {

int cmd_list(int argc, char **argv);     // list <dir>
int cmd_inspect(int argc, char **argv);  // inspect <image-file | gen-dir>
int cmd_verify(int argc, char **argv);   // verify <image-file | gen-dir | dir>
int cmd_clean(int argc, char **argv);    // clean <dir> [--keep N]

}  // namespace autockpt
