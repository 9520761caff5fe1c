// The `autockpt` command: runs a program with checkpoint settings, asks a running one for a
// checkpoint, and prints the settings; list/inspect/verify/clean live in image_commands.cpp.
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autockpt/abi.h"
#include "commands.h"
#include "options.h"

#ifndef AUTOCKPT_VERSION
#define AUTOCKPT_VERSION "unknown"
#endif
#ifndef AUTOCKPT_LLVM_VERSION
#define AUTOCKPT_LLVM_VERSION "unknown"
#endif

extern char **environ;

namespace {

using namespace autockpt;  // Options, Status, and the cmd_* of commands.h

// Exit statuses of the command itself (`run` becomes the program and returns the program's).
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The symbol every instrumented module's constructor calls; its name in an executable says the
// autockpt runtime is linked in.
constexpr std::string_view kRuntimeMarker = "__autockpt_register_module";

int cmd_run(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_options_markdown(int argc, char **argv);
int cmd_scan(int argc, char **argv);

struct Command {
  const char *name;
  int (*run)(int argc, char **argv);  // the arguments after the command's name
  const char *args;
  const char *summary;
};

constexpr Command kCommands[] = {
    {"run", cmd_run, "[OPTIONS] [--] PROGRAM [ARGS...]",
     "run PROGRAM with these settings; it resumes from its newest checkpoint if there is one"},
    {"checkpoint", cmd_checkpoint, "[--force] PID...",
     "ask a running autockpt program for a checkpoint now (sends its AUTOCKPT_SIGNAL)"},
    {"list", cmd_list, "DIR", "list the checkpoints in a checkpoint directory"},
    {"inspect", cmd_inspect, "IMAGE | GEN-DIR", "show what a checkpoint holds"},
    {"verify", cmd_verify, "IMAGE | GEN-DIR | DIR", "check checkpoints' checksums"},
    {"scan", cmd_scan, "-p BUILD_DIR [--format=text|json] [FILE...]",
     "report what in a codebase may limit checkpointing (its compile_commands.json)"},
    {"clean", cmd_clean, "DIR [--keep N]", "delete the checkpoints (all, or all but the newest N)"},
    {"options-markdown", cmd_options_markdown, "[--page] [-o FILE | --check FILE]",
     "print the settings table in Markdown (docs/options.md)"},
};

void print_usage(FILE *out) {
  std::fprintf(out,
               "usage: autockpt COMMAND [ARGS...]\n"
               "       autockpt --help | --version\n"
               "\n"
               "Checkpoint and restart programs built with autockpt (see `autockpt-config --help`).\n"
               "A program built with autockpt takes checkpoints by itself, on a timer or a signal,\n"
               "and resumes from the newest one when it is run again.\n"
               "\n"
               "Commands:\n");
  for (const Command &c : kCommands) {
    std::fprintf(out, "  %s %s\n      %s\n", c.name, c.args, c.summary);
  }
  std::fprintf(out, "\n");
  print_options_help(out);
  std::fprintf(out,
               "\nExit status: 0 on success, 1 on failure, 2 for a mistake on the command line;\n"
               "`run` exits with the program's status.\n");
}

void print_version() {
  std::printf("autockpt %s (LLVM %s, runtime ABI %d)\n", AUTOCKPT_VERSION, AUTOCKPT_LLVM_VERSION,
              AUTOCKPT_ABI_VERSION);
}

bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h" || arg == "help"; }

// ---------------------------------------------------------------------------------------------
// autockpt run

void print_run_usage(FILE *out) {
  std::fprintf(out,
               "usage: autockpt run [OPTIONS] [--] PROGRAM [ARGS...]\n"
               "\n"
               "Runs PROGRAM with the given settings (each flag sets its AUTOCKPT_ variable, over any\n"
               "inherited one).  PROGRAM resumes from its newest checkpoint if there is one, so the\n"
               "same command both starts and continues a run.  Flags are --name VALUE or --name=VALUE;\n"
               "the first word that is not a flag, or the word after --, is the program.\n"
               "\n"
               "Example: autockpt run --interval 30m --dir $SCRATCH/sim.ckpt -- ./sim input.cfg\n"
               "\n");
  print_options_help(out);
}

// `scan` is autockpt-scan (clang-plugin/Scan.cpp, LibTooling), which lies beside this command.
int cmd_scan(int argc, char **argv) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::perror("autockpt scan: /proc/self/exe");
    return kExitFailure;
  }
  self[n] = 0;
  std::string scan = self;
  scan = scan.substr(0, scan.rfind('/') + 1) + "autockpt-scan";
  std::vector<char *> args{scan.data()};
  for (int k = 0; k < argc; ++k) args.push_back(argv[k]);
  args.push_back(nullptr);
  execv(scan.c_str(), args.data());
  std::fprintf(stderr, "autockpt scan: cannot run %s: %s\n", scan.c_str(), std::strerror(errno));
  return kExitFailure;
}

int cmd_run(int argc, char **argv) {
  Options options;
  if (Status st = parse_environment(environ, &options); !st) {
    std::fprintf(stderr, "autockpt run: %s\n", st.message().c_str());
    return kExitUsage;
  }
  std::vector<std::pair<std::string, std::string>> settings;  // AUTOCKPT_X, value
  int i = 0;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "--help" || arg == "-h") {
      print_run_usage(stdout);
      return 0;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // the program
    if (arg.substr(0, 2) != "--") {
      std::fprintf(stderr, "autockpt run: unknown flag %s (flags are --name VALUE; see `autockpt run --help`)\n",
                   argv[i]);
      return kExitUsage;
    }
    std::string name, value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      name = arg;
      value = argv[++i];
    } else {
      name = arg;
      if (option_env_name(name).empty()) {
        std::fprintf(stderr, "autockpt run: %s\n",
                     set_option(name, "", &options).message().c_str());
      } else {
        std::fprintf(stderr, "autockpt run: %s needs a value\n", argv[i]);
      }
      return kExitUsage;
    }
    if (Status st = set_option(name, value, &options); !st) {
      std::fprintf(stderr, "autockpt run: %s\n", st.message().c_str());
      return kExitUsage;
    }
    settings.emplace_back(option_env_name(name), value);
  }
  if (i >= argc) {
    std::fprintf(stderr, "autockpt run: no program given (usage: autockpt run [OPTIONS] [--] PROGRAM [ARGS...])\n");
    return kExitUsage;
  }
  for (const auto &[env, value] : settings) {
    if (setenv(env.c_str(), value.c_str(), 1) != 0) {
      std::fprintf(stderr, "autockpt run: cannot set %s: %s\n", env.c_str(), std::strerror(errno));
      return kExitFailure;
    }
  }
  execvp(argv[i], argv + i);
  int err = errno;
  std::fprintf(stderr, "autockpt run: cannot run %s: %s\n", argv[i], std::strerror(err));
  return err == ENOENT ? 127 : 126;  // as a shell would
}

// ---------------------------------------------------------------------------------------------
// autockpt checkpoint

// Reads a whole file (a /proc entry has no size, so read until the end).
bool read_file(const std::string &path, std::string *out, std::string *error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::strerror(errno);
      close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, size_t(n));
  }
  close(fd);
  return true;
}

// Whether the file contains needle, reading it in large blocks that overlap by needle's length.
bool file_contains(const std::string &path, std::string_view needle, bool *found, std::string *error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  std::vector<char> buf(size_t(1) << 20);
  size_t kept = 0;  // bytes carried over from the previous block
  *found = false;
  for (;;) {
    ssize_t n = read(fd, buf.data() + kept, buf.size() - kept);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::strerror(errno);
      close(fd);
      return false;
    }
    if (n == 0) break;
    size_t have = kept + size_t(n);
    if (memmem(buf.data(), have, needle.data(), needle.size()) != nullptr) {
      *found = true;
      break;
    }
    kept = std::min(have, needle.size() - 1);
    std::memmove(buf.data(), buf.data() + have - kept, kept);
  }
  close(fd);
  return true;
}

void print_checkpoint_usage(FILE *out) {
  std::fprintf(out,
               "usage: autockpt checkpoint [--force] PID...\n"
               "\n"
               "Asks each running autockpt program for a checkpoint now, by sending it the signal of its\n"
               "AUTOCKPT_SIGNAL (read from /proc/PID/environ; USR1 unless set).  With AUTOCKPT_ON_SIGNAL=exit\n"
               "(the default) the program exits after the checkpoint; run the same command again to resume.\n"
               "Refuses processes whose executable does not contain the autockpt runtime; --force skips\n"
               "that check (for stripped executables).\n");
}

bool checkpoint_process(pid_t pid, bool force) {
  const std::string proc = "/proc/" + std::to_string(pid);
  if (kill(pid, 0) != 0) {
    if (errno == ESRCH)
      std::fprintf(stderr, "autockpt checkpoint: there is no process %d\n", int(pid));
    else
      std::fprintf(stderr, "autockpt checkpoint: you may not signal process %d: %s (another user's?)\n",
                   int(pid), std::strerror(errno));
    return false;
  }
  std::string comm, error;
  if (!read_file(proc + "/comm", &comm, &error)) comm = "?";
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  const std::string who = "process " + std::to_string(pid) + " (" + comm + ")";

  if (!force) {
    bool found = false;
    if (!file_contains(proc + "/exe", kRuntimeMarker, &found, &error)) {
      std::fprintf(stderr,
                   "autockpt checkpoint: cannot read the executable of %s: %s; "
                   "--force signals it without checking\n",
                   who.c_str(), error.c_str());
      return false;
    }
    if (!found) {
      std::fprintf(stderr,
                   "autockpt checkpoint: %s is not an autockpt program: its executable does not contain "
                   "the autockpt runtime, and the signal would likely kill it.\n"
                   "  If it is a launcher (mpirun, srun, a shell script), signal the program's own "
                   "processes; if it is a stripped autockpt program, use --force.\n",
                   who.c_str());
      return false;
    }
  }

  // The program's settings, as its runtime read them at startup.
  std::string environ_text;
  if (!read_file(proc + "/environ", &environ_text, &error)) {
    std::fprintf(stderr, "autockpt checkpoint: cannot read the environment of %s: %s\n", who.c_str(),
                 error.c_str());
    return false;
  }
  if (!environ_text.empty() && environ_text.back() != '\0') environ_text += '\0';
  std::vector<char *> envp;
  for (size_t start = 0; start < environ_text.size(); start = environ_text.find('\0', start) + 1)
    envp.push_back(&environ_text[start]);
  envp.push_back(nullptr);
  Options options;
  if (Status st = parse_environment(envp.data(), &options); !st) {
    std::fprintf(stderr, "autockpt checkpoint: cannot tell which signal %s listens for: %s\n", who.c_str(),
                 st.message().c_str());
    return false;
  }
  if (options.signal == 0) {
    std::fprintf(stderr,
                 "autockpt checkpoint: %s runs with AUTOCKPT_SIGNAL=none: it takes no checkpoint on a "
                 "signal\n",
                 who.c_str());
    return false;
  }
  if (kill(pid, options.signal) != 0) {
    std::fprintf(stderr, "autockpt checkpoint: cannot send SIG%s to %s: %s\n",
                 signal_name(options.signal), who.c_str(), std::strerror(errno));
    return false;
  }
  if (options.on_signal == OnSignal::Exit)
    std::printf("autockpt: sent SIG%s to %s; it will write a checkpoint and exit with status %d\n",
                signal_name(options.signal), who.c_str(), options.exit_code);
  else
    std::printf("autockpt: sent SIG%s to %s; it will write a checkpoint and keep running\n",
                signal_name(options.signal), who.c_str());
  return true;
}

int cmd_checkpoint(int argc, char **argv) {
  bool force = false;
  std::vector<pid_t> pids;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_checkpoint_usage(stdout);
      return 0;
    }
    if (arg == "--force") {
      force = true;
      continue;
    }
    char *end = nullptr;
    errno = 0;
    long pid = std::strtol(argv[i], &end, 10);
    if (arg.empty() || *end != '\0' || errno != 0 || pid <= 0 || pid > 0x3fffffff) {
      std::fprintf(stderr, "autockpt checkpoint: %s is not a process id (usage: autockpt checkpoint [--force] PID...)\n",
                   argv[i]);
      return kExitUsage;
    }
    pids.push_back(pid_t(pid));
  }
  if (pids.empty()) {
    print_checkpoint_usage(stderr);
    return kExitUsage;
  }
  int status = 0;
  for (pid_t pid : pids)
    if (!checkpoint_process(pid, force)) status = kExitFailure;
  return status;
}

// ---------------------------------------------------------------------------------------------
// autockpt options-markdown

// docs/options.md: the table between the prose that explains it.
std::string options_page() {
  std::string page =
      "<!-- Generated from runtime/options.def by `autockpt options-markdown --page`\n"
      "     (cmake --build BUILD --target docs-options). Edit options.def, not this file. -->\n"
      "# autockpt settings\n"
      "\n"
      "A program built with autockpt reads its settings from `AUTOCKPT_*` environment variables\n"
      "when it starts. `autockpt run` sets the same variables from command-line flags, over any\n"
      "inherited ones; these two commands do the same thing:\n"
      "\n"
      "    AUTOCKPT_INTERVAL=30m ./sim input.cfg\n"
      "    autockpt run --interval 30m -- ./sim input.cfg\n"
      "\n"
      "A misspelt `AUTOCKPT_` variable or a value that cannot be read stops the program at startup\n"
      "with a message that names it and suggests what was meant. Names that start with `AUTOCKPT__`\n"
      "(two underscores) belong to autockpt itself.\n"
      "\n";
  page += options_markdown_table();
  page +=
      "\n"
      "## Values\n"
      "\n";
  page += option_formats_markdown();
  page +=
      "\n"
      "## Checkpoints before a time limit\n"
      "\n"
      "With `AUTOCKPT_ON_SIGNAL=exit` (the default), a program that receives its signal writes a\n"
      "checkpoint and exits with status `AUTOCKPT_EXIT_CODE` (75, EX_TEMPFAIL, unless set). Running\n"
      "the same command again resumes it. Under Slurm, have the signal sent to the job step some\n"
      "minutes before the time limit, and requeue the job when the program says so:\n"
      "\n"
      "    #SBATCH --signal=USR1@300      # USR1 to the srun step 5 minutes before the limit\n"
      "    #SBATCH --requeue --open-mode=append\n"
      "    srun ./sim input.cfg\n"
      "    if [ $? -eq 75 ]; then scontrol requeue \"$SLURM_JOB_ID\"; fi\n"
      "\n"
      "`autockpt checkpoint PID` sends a running program its signal by hand.\n";
  return page;
}

void print_options_markdown_usage(FILE *out) {
  std::fprintf(out,
               "usage: autockpt options-markdown [--page] [-o FILE | --check FILE]\n"
               "\n"
               "Prints the settings table in Markdown; --page prints all of docs/options.md.\n"
               "-o FILE writes it to FILE; --check FILE fails if FILE differs from it.\n");
}

int cmd_options_markdown(int argc, char **argv) {
  bool page = false;
  std::string output, check;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_options_markdown_usage(stdout);
      return 0;
    } else if (arg == "--page") {
      page = true;
    } else if ((arg == "-o" || arg == "--output") && i + 1 < argc) {
      output = argv[++i];
    } else if (arg == "--check" && i + 1 < argc) {
      check = argv[++i];
    } else {
      print_options_markdown_usage(stderr);
      return kExitUsage;
    }
  }
  const std::string text = page ? options_page() : options_markdown_table();
  if (!check.empty()) {
    std::string current, error;
    if (!read_file(check, &current, &error)) {
      std::fprintf(stderr, "autockpt options-markdown: cannot read %s: %s\n", check.c_str(), error.c_str());
      return kExitFailure;
    }
    if (current != text) {
      std::fprintf(stderr,
                   "autockpt options-markdown: %s is out of date with runtime/options.def; "
                   "run `cmake --build BUILD --target docs-options`\n",
                   check.c_str());
      return kExitFailure;
    }
    return 0;
  }
  if (output.empty()) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    std::fprintf(stderr, "autockpt options-markdown: cannot write %s\n", output.c_str());
    return kExitFailure;
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    print_usage(stderr);
    return kExitUsage;
  }
  std::string_view command = argv[1];
  if (is_help(command)) {
    print_usage(stdout);
    return 0;
  }
  if (command == "--version" || command == "version") {
    print_version();
    return 0;
  }
  for (const Command &c : kCommands)
    if (command == c.name) return c.run(argc - 2, argv + 2);

  std::vector<std::string_view> names;
  for (const Command &c : kCommands) names.push_back(c.name);
  std::string_view guess = closest_match(command, names);
  if (command.substr(0, 1) == "-")
    std::fprintf(stderr, "autockpt: unknown flag %s", argv[1]);
  else
    std::fprintf(stderr, "autockpt: '%s' is not an autockpt command", argv[1]);
  if (!guess.empty()) std::fprintf(stderr, "; did you mean '%.*s'?", int(guess.size()), guess.data());
  std::fprintf(stderr, " (see `autockpt --help`)\n");
  return kExitUsage;
}
