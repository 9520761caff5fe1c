// Tests of runtime/options.{def,cpp}: defaults, each value type, error messages and suggestions,
// reserved AUTOCKPT__ names, set_option's flag forms, and the generated help and Markdown.
#include "options.h"

#include <gtest/gtest.h>

#include <csignal>
#include <initializer_list>
#include <string>
#include <vector>

namespace autockpt {
namespace {

// Parses an environment given as "NAME=value" strings.
Status parse_env(std::initializer_list<const char *> vars, Options *out) {
  std::vector<std::string> storage(vars.begin(), vars.end());
  std::vector<char *> envp;
  for (std::string &s : storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  return parse_environment(envp.data(), out);
}

// The options after parsing one variable, which must succeed.
Options with(const char *var) {
  Options o;
  Status st = parse_env({var}, &o);
  EXPECT_TRUE(st.is_ok()) << var << ": " << st.message();
  return o;
}

// The error message for one variable, which must fail.
std::string error_for(const char *var) {
  Options o;
  Status st = parse_env({var}, &o);
  EXPECT_FALSE(st.is_ok()) << var << " was accepted";
  return st.message();
}

TEST(Options, Defaults) {
  Options o;
  EXPECT_EQ(o.dir, "");
  EXPECT_EQ(o.interval_s, 0.0);
  EXPECT_EQ(o.signal, SIGUSR1);
  EXPECT_EQ(o.on_signal, OnSignal::Exit);
  EXPECT_EQ(o.exit_code, 75);
  EXPECT_EQ(o.keep, 2u);
  EXPECT_EQ(o.restart, Options::Restart::Auto);
  EXPECT_EQ(o.verbose, 1u);
  EXPECT_EQ(o.compress, Compress::None);
  EXPECT_EQ(o.stack_size, 8ull << 30);
  EXPECT_EQ(o.heap_size, 1ull << 40);
  EXPECT_EQ(o.max_checkpoints, 0u);
}

TEST(Options, EmptyEnvironmentGivesDefaults) {
  Options o;
  o.keep = 7;
  char *envp[] = {const_cast<char *>("PATH=/usr/bin"), const_cast<char *>("AUTOCKPT"), nullptr};
  ASSERT_TRUE(parse_environment(envp, &o).is_ok());
  EXPECT_EQ(o.keep, 2u);  // parse_environment starts from the defaults
  ASSERT_TRUE(parse_environment(nullptr, &o).is_ok());
}

TEST(Options, Durations) {
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=600").interval_s, 600.0);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=10m").interval_s, 600.0);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=1h30m").interval_s, 5400.0);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=0.5").interval_s, 0.5);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=1.5h").interval_s, 5400.0);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=1d2h3m4s").interval_s, 86400.0 + 7200 + 180 + 4);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=45s").interval_s, 45.0);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL= 10M ").interval_s, 600.0);
  EXPECT_EQ(with("AUTOCKPT_INTERVAL=0").interval_s, 0.0);
  for (const char *bad : {"AUTOCKPT_INTERVAL=ten", "AUTOCKPT_INTERVAL=-5", "AUTOCKPT_INTERVAL=1h30",
                          "AUTOCKPT_INTERVAL=30m1h", "AUTOCKPT_INTERVAL=10x", "AUTOCKPT_INTERVAL=m",
                          "AUTOCKPT_INTERVAL=1e3", "AUTOCKPT_INTERVAL="})
    EXPECT_NE(error_for(bad).find("AUTOCKPT_INTERVAL"), std::string::npos) << bad;
}

TEST(Options, Sizes) {
  EXPECT_EQ(with("AUTOCKPT_STACK_SIZE=8G").stack_size, 8ull << 30);
  EXPECT_EQ(with("AUTOCKPT_STACK_SIZE=512M").stack_size, 512ull << 20);
  EXPECT_EQ(with("AUTOCKPT_STACK_SIZE=64k").stack_size, 64ull << 10);
  EXPECT_EQ(with("AUTOCKPT_STACK_SIZE=4096").stack_size, 4096u);
  EXPECT_EQ(with("AUTOCKPT_STACK_SIZE=1.5G").stack_size, 3ull << 29);
  EXPECT_EQ(with("AUTOCKPT_HEAP_SIZE=2T").heap_size, 2ull << 40);
  EXPECT_EQ(with("AUTOCKPT_HEAP_SIZE=8GiB").heap_size, 8ull << 30);
  EXPECT_EQ(with("AUTOCKPT_HEAP_SIZE=8GB").heap_size, 8ull << 30);
  for (const char *bad : {"AUTOCKPT_STACK_SIZE=0", "AUTOCKPT_STACK_SIZE=big", "AUTOCKPT_STACK_SIZE=8X",
                          "AUTOCKPT_STACK_SIZE=-1G", "AUTOCKPT_HEAP_SIZE=99999999999999999999",
                          "AUTOCKPT_HEAP_SIZE=20000000P"})
    EXPECT_NE(error_for(bad).find(std::string(bad).substr(0, std::string(bad).find('='))),
              std::string::npos)
        << bad;
}

TEST(Options, Signals) {
  EXPECT_EQ(with("AUTOCKPT_SIGNAL=USR1").signal, SIGUSR1);
  EXPECT_EQ(with("AUTOCKPT_SIGNAL=SIGTERM").signal, SIGTERM);
  EXPECT_EQ(with("AUTOCKPT_SIGNAL=15").signal, 15);
  EXPECT_EQ(with("AUTOCKPT_SIGNAL=usr2").signal, SIGUSR2);
  EXPECT_EQ(with("AUTOCKPT_SIGNAL=none").signal, 0);
  EXPECT_EQ(with("AUTOCKPT_SIGNAL=RTMIN+2").signal, SIGRTMIN + 2);
  EXPECT_EQ(with("AUTOCKPT_SIGNAL=SIGRTMAX").signal, SIGRTMAX);
  EXPECT_NE(error_for("AUTOCKPT_SIGNAL=USR3").find("AUTOCKPT_SIGNAL=USR3: expected a signal"),
            std::string::npos);
  EXPECT_NE(error_for("AUTOCKPT_SIGNAL=KILL").find("cannot be caught"), std::string::npos);
  EXPECT_NE(error_for("AUTOCKPT_SIGNAL=SIGSEGV").find("fault"), std::string::npos);
  error_for("AUTOCKPT_SIGNAL=0");
  error_for("AUTOCKPT_SIGNAL=999");
  error_for("AUTOCKPT_SIGNAL=32");  // reserved by glibc's threads
}

TEST(Options, SignalNamesRoundTrip) {
  EXPECT_STREQ(signal_name(SIGUSR1), "USR1");
  EXPECT_STREQ(signal_name(SIGTERM), "TERM");
  EXPECT_STREQ(signal_name(0), "none");
  EXPECT_STREQ(signal_name(SIGRTMIN + 3), "RTMIN+3");
  EXPECT_STREQ(signal_name(SIGRTMAX - 1), "RTMAX-1");
  EXPECT_STREQ(signal_name(100000), "unknown");
  for (int sig = 1; sig <= SIGRTMAX; ++sig) {
    int back = -1;
    if (parse_signal(signal_name(sig), &back)) {
      EXPECT_EQ(back, sig) << signal_name(sig);
    }
  }
}

TEST(Options, Choices) {
  EXPECT_EQ(with("AUTOCKPT_ON_SIGNAL=continue").on_signal, OnSignal::Continue);
  EXPECT_EQ(with("AUTOCKPT_ON_SIGNAL=EXIT").on_signal, OnSignal::Exit);
  EXPECT_EQ(with("AUTOCKPT_RESTART=never").restart, Restart::Never);
  EXPECT_EQ(with("AUTOCKPT_RESTART=require").restart, Restart::Require);
  EXPECT_EQ(with("AUTOCKPT_COMPRESS=zstd").compress, Compress::Zstd);
  EXPECT_EQ(error_for("AUTOCKPT_RESTART=always"),
            "AUTOCKPT_RESTART=always: expected auto, never or require");
  EXPECT_EQ(error_for("AUTOCKPT_ON_SIGNAL=stop"), "AUTOCKPT_ON_SIGNAL=stop: expected continue or exit");
}

TEST(Options, Numbers) {
  EXPECT_EQ(with("AUTOCKPT_KEEP=5").keep, 5u);
  EXPECT_EQ(with("AUTOCKPT_MAX_CHECKPOINTS=3").max_checkpoints, 3u);
  EXPECT_EQ(with("AUTOCKPT_EXIT_CODE=99").exit_code, 99);
  EXPECT_EQ(error_for("AUTOCKPT_KEEP=zero"), "AUTOCKPT_KEEP=zero: expected a whole number ≥ 1");
  EXPECT_EQ(error_for("AUTOCKPT_KEEP=0"), "AUTOCKPT_KEEP=0: expected a whole number ≥ 1");
  EXPECT_EQ(error_for("AUTOCKPT_KEEP="), "AUTOCKPT_KEEP is empty: expected a whole number ≥ 1");
  error_for("AUTOCKPT_KEEP=-1");
  error_for("AUTOCKPT_KEEP=99999999999");
  error_for("AUTOCKPT_MAX_CHECKPOINTS=1.5");
  EXPECT_NE(error_for("AUTOCKPT_EXIT_CODE=0").find("from 1 to 255"), std::string::npos);
  error_for("AUTOCKPT_EXIT_CODE=256");
}

TEST(Options, Verbosity) {
  EXPECT_EQ(with("AUTOCKPT_VERBOSE=0").verbose, 0u);
  EXPECT_EQ(with("AUTOCKPT_VERBOSE=3").verbose, 3u);
  EXPECT_EQ(with("AUTOCKPT_VERBOSE=yes").verbose, 1u);
  EXPECT_EQ(with("AUTOCKPT_VERBOSE=FALSE").verbose, 0u);
  EXPECT_EQ(with("AUTOCKPT_VERBOSE=no").verbose, 0u);
  EXPECT_EQ(with("AUTOCKPT_VERBOSE=true").verbose, 1u);
  EXPECT_NE(error_for("AUTOCKPT_VERBOSE=4").find("AUTOCKPT_VERBOSE=4: expected 0, 1, 2 or 3"),
            std::string::npos);
}

TEST(Options, PathsAreTakenAsGiven) {
  EXPECT_EQ(with("AUTOCKPT_DIR=/scratch/me/run 1/").dir, "/scratch/me/run 1/");
  EXPECT_EQ(with("AUTOCKPT_DIR=a=b").dir, "a=b");
  Options o;
  EXPECT_EQ(checkpoint_dir(o, "/home/me/bin/sim"), "sim.ckpt");
  EXPECT_EQ(checkpoint_dir(o, "sim"), "sim.ckpt");
  o.dir = "/scratch/ck";
  EXPECT_EQ(checkpoint_dir(o, "/home/me/bin/sim"), "/scratch/ck");
}

TEST(Options, MisspelledNameSuggestsTheClosest) {
  EXPECT_EQ(error_for("AUTOCKPT_INTERVL=10m"),
            "AUTOCKPT_INTERVL is not an autockpt setting; did you mean AUTOCKPT_INTERVAL? "
            "(see `autockpt --help`)");
  EXPECT_NE(error_for("AUTOCKPT_INTERAVL=1").find("did you mean AUTOCKPT_INTERVAL?"), std::string::npos);
  EXPECT_NE(error_for("AUTOCKPT_interval=1").find("did you mean AUTOCKPT_INTERVAL?"), std::string::npos);
  EXPECT_NE(error_for("AUTOCKPT_CHECKPOINT_DIR=x").find("did you mean AUTOCKPT_DIR?"), std::string::npos);
  EXPECT_NE(error_for("AUTOCKPT_STACK=8G").find("did you mean AUTOCKPT_STACK_SIZE?"), std::string::npos);
  EXPECT_NE(error_for("AUTOCKPT_KEEPS=3").find("did you mean AUTOCKPT_KEEP?"), std::string::npos);
  std::string far = error_for("AUTOCKPT_ZZZZZZZZZZ=1");
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
  EXPECT_NE(far.find("AUTOCKPT_ZZZZZZZZZZ is not an autockpt setting"), std::string::npos);
}

TEST(Options, EveryProblemIsReported) {
  Options o;
  Status st = parse_env({"AUTOCKPT_KEEP=zero", "AUTOCKPT_INTERVL=1", "AUTOCKPT_VERBOSE=2"}, &o);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("AUTOCKPT_KEEP=zero"), std::string::npos);
  EXPECT_NE(st.message().find("\nAUTOCKPT_INTERVL"), std::string::npos);
}

TEST(Options, FirstOccurrenceWins) {
  Options o;
  ASSERT_TRUE(parse_env({"AUTOCKPT_KEEP=3", "AUTOCKPT_KEEP=4"}, &o).is_ok());
  EXPECT_EQ(o.keep, 3u);
}

TEST(Options, ReservedNamesAreAccepted) {
  Options o;
  Status st = parse_env({"AUTOCKPT__REEXEC=1", "AUTOCKPT__ANYTHING=x", "AUTOCKPT__=", "AUTOCKPT_KEEP=4"}, &o);
  EXPECT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(o.keep, 4u);
}

TEST(Options, SetOptionTakesEveryForm) {
  Options o;
  ASSERT_TRUE(set_option("--interval", "10m", &o).is_ok());
  EXPECT_EQ(o.interval_s, 600.0);
  ASSERT_TRUE(set_option("--stack-size", "1G", &o).is_ok());
  EXPECT_EQ(o.stack_size, 1ull << 30);
  ASSERT_TRUE(set_option("on-signal", "continue", &o).is_ok());
  EXPECT_EQ(o.on_signal, OnSignal::Continue);
  ASSERT_TRUE(set_option("MAX_CHECKPOINTS", "2", &o).is_ok());
  EXPECT_EQ(o.max_checkpoints, 2u);
  ASSERT_TRUE(set_option("AUTOCKPT_SIGNAL", "TERM", &o).is_ok());
  EXPECT_EQ(o.signal, SIGTERM);
  ASSERT_TRUE(set_option("--dir", "/tmp/x", &o).is_ok());
  EXPECT_EQ(o.dir, "/tmp/x");

  EXPECT_EQ(set_option("--keep", "zero", &o).message(), "--keep=zero: expected a whole number ≥ 1");
  EXPECT_EQ(set_option("--intervl", "1", &o).message(),
            "--intervl is not an autockpt option; did you mean --interval? (see `autockpt --help`)");
  EXPECT_EQ(set_option("--stacksize", "1", &o).message(),
            "--stacksize is not an autockpt option; did you mean --stack-size? (see `autockpt --help`)");
  EXPECT_FALSE(set_option("AUTOCKPT__REEXEC", "1", &o).is_ok());
}

TEST(Options, EnvNames) {
  EXPECT_EQ(option_env_name("--heap-size"), "AUTOCKPT_HEAP_SIZE");
  EXPECT_EQ(option_env_name("exit-code"), "AUTOCKPT_EXIT_CODE");
  EXPECT_EQ(option_env_name("AUTOCKPT_KEEP"), "AUTOCKPT_KEEP");
  EXPECT_EQ(option_env_name("--nope"), "");
}

TEST(Options, DescribeRoundTrips) {
  Options o;
  ASSERT_TRUE(parse_env({"AUTOCKPT_INTERVAL=1h30m", "AUTOCKPT_SIGNAL=SIGTERM", "AUTOCKPT_HEAP_SIZE=3G",
                         "AUTOCKPT_RESTART=never", "AUTOCKPT_DIR=/d"},
                        &o)
                  .is_ok());
  std::string text = describe_options(o);
  EXPECT_NE(text.find("AUTOCKPT_INTERVAL=1h30m\n"), std::string::npos) << text;
  EXPECT_NE(text.find("AUTOCKPT_SIGNAL=TERM\n"), std::string::npos) << text;
  EXPECT_NE(text.find("AUTOCKPT_STACK_SIZE=8G\n"), std::string::npos) << text;
  EXPECT_NE(text.find("AUTOCKPT_HEAP_SIZE=3G\n"), std::string::npos) << text;
  // Every line read back gives the same options.
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  std::vector<char *> envp;
  for (std::string &l : lines) envp.push_back(l.data());
  envp.push_back(nullptr);
  Options back;
  Status st = parse_environment(envp.data(), &back);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(describe_options(back), text);
}

TEST(Options, HelpAndMarkdownListEveryOption) {
  std::string md = options_markdown_table();
  char *buf = nullptr;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  print_options_help(f);
  std::fclose(f);
  std::string help(buf, size);
  std::free(buf);
  for (const char *name : {"DIR", "INTERVAL", "SIGNAL", "ON_SIGNAL", "EXIT_CODE", "KEEP", "RESTART",
                           "VERBOSE", "COMPRESS", "STACK_SIZE", "HEAP_SIZE", "MAX_CHECKPOINTS"}) {
    std::string env = std::string("AUTOCKPT_") + name;
    EXPECT_NE(md.find("`" + env + "`"), std::string::npos) << name;
    EXPECT_NE(help.find(env), std::string::npos) << name;
  }
  EXPECT_NE(help.find("--stack-size SIZE"), std::string::npos) << help;
  EXPECT_NE(help.find("AUTOCKPT_STACK_SIZE=8G"), std::string::npos) << help;
  EXPECT_NE(md.find("&lt;program&gt;.ckpt"), std::string::npos) << md;
  EXPECT_EQ(md.find("<program>"), std::string::npos) << md;
}

TEST(Options, ClosestMatch) {
  std::vector<std::string_view> commands = {"run", "checkpoint", "list", "inspect", "verify", "clean"};
  EXPECT_EQ(closest_match("chekpoint", commands), "checkpoint");
  EXPECT_EQ(closest_match("lsit", commands), "list");
  EXPECT_EQ(closest_match("verfy", commands), "verify");
  EXPECT_EQ(closest_match("frobnicate", commands), "");
}

}  // namespace
}  // namespace autockpt
