// A program's autockpt settings (the list is options.def): read once at startup from the
// AUTOCKPT_* environment, or from `autockpt run` flags; what each setting does is left to its users.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace autockpt {

enum class OnSignal { Continue, Exit };
enum class Restart { Auto, Never, Require };
enum class Compress { None, Zstd };

// The Type column of options.def: each tag names the C++ type of its field; options.cpp says how
// a value of that tag is read, printed and described.
namespace option_type {
struct Path { using value_type = std::string; };         // any text; "" = the default place
struct Duration { using value_type = double; };          // seconds: 600, 10m, 1h30m, 0.5
struct Signal { using value_type = int; };               // signal number; 0 = none
struct Size { using value_type = std::uint64_t; };       // bytes: 4096, 512M, 8G, 1T
struct Count { using value_type = unsigned; };           // 0, 1, 2, ...
struct BigCount { using value_type = std::uint64_t; };   // 0, 1, 2, ... up to 2^64 - 1
struct PositiveCount { using value_type = unsigned; };   // 1, 2, ...
struct Verbosity { using value_type = unsigned; };       // 0..3, yes/no, true/false, on/off
struct Switch { using value_type = bool; };              // yes/no, true/false, on/off, 1/0
struct ExitStatus { using value_type = int; };           // 1..255
template <typename Enum> struct Choice { using value_type = Enum; };  // one of a few words
}  // namespace option_type

// One field per line of options.def (e.g. interval_s, signal, on_signal, keep, stack_size).
// A default-constructed Options holds every default of options.def.
struct Options {
  using OnSignal = autockpt::OnSignal;
  using Restart = autockpt::Restart;
  using Compress = autockpt::Compress;

#define AUTOCKPT_OPTION(NAME, FIELD, TYPE, DEFAULT, HELP) option_type::TYPE::value_type FIELD;
#include "options.def"
#undef AUTOCKPT_OPTION

  Options();
};

// Reads every AUTOCKPT_* variable of envp (a null-terminated "NAME=value" array, like environ)
// into *out, which starts from the defaults.  An unknown AUTOCKPT_ name (with the closest known
// one suggested) or a value that cannot be read is an error; the message lists every problem,
// one per line.  AUTOCKPT__* (two underscores) is reserved for the runtime and skipped.  Where
// a name occurs twice the first one counts, as with getenv.  On error, do not use *out.
Status parse_environment(char **envp, Options *out);

// Sets one option from the command line: name_or_flag is "--interval", "interval",
// "INTERVAL" or "AUTOCKPT_INTERVAL".  Errors are worded in the form that was given.
Status set_option(const std::string &name_or_flag, const std::string &value, Options *out);

// "AUTOCKPT_INTERVAL" for any form set_option accepts; "" for an unknown name.
std::string option_env_name(std::string_view name_or_flag);

// The option table for `autockpt --help`: flag, variable, default and meaning of each option.
void print_options_help(FILE *out);

// The same table in Markdown (| Setting | Default | Meaning |), for docs/options.md and README.
std::string options_markdown_table();

// What the value formats (duration, size, signal, ...) accept, as a Markdown list.
std::string option_formats_markdown();

// Every option as AUTOCKPT_<NAME>=<value>, one per line, for logs at high verbosity.
std::string describe_options(const Options &options);

// The directory checkpoints go to: options.dir, or "<basename of exe_path>.ckpt".
std::string checkpoint_dir(const Options &options, std::string_view exe_path);

// Signals as users write them: "USR1", "SIGUSR1", "usr1", "10", "RTMIN+2", "none" (0).
// Returns false for text that is not a signal, and for signals that cannot request a
// checkpoint (KILL, STOP, and the ones that report a fault: SEGV, BUS, ILL, FPE, TRAP, SYS).
bool parse_signal(std::string_view text, int *signo);

// "USR1" for SIGUSR1, "RTMIN+2", "none" for 0, "unknown" for anything else.  Reads only
// static tables, so it may be called from a signal handler.
const char *signal_name(int signo);

// The candidate closest to word (case-insensitive edit distance, or one containing the other),
// or "" when none is close enough to be worth suggesting.
std::string_view closest_match(std::string_view word, const std::vector<std::string_view> &candidates);

}  // namespace autockpt
