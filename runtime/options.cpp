// Reading, printing and describing the settings listed in options.def: the AUTOCKPT_*
// environment parser, set_option for `autockpt run`, and the help and Markdown tables.
#include "options.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>

namespace autockpt {
namespace {

constexpr std::string_view kPrefix = "AUTOCKPT_";
constexpr std::string_view kReservedPrefix = "AUTOCKPT__";

// ---------------------------------------------------------------------------------------------
// Text helpers.  Everything is ASCII and locale-independent: this runs before main.

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
char to_upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// A whole number of decimal digits and nothing else, no larger than max.
bool parse_whole(std::string_view s, std::uint64_t max, std::uint64_t *out) {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    unsigned d = unsigned(c - '0');
    if (d > max || v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// Reads "12", "12.5", "0.5" or ".5" from the front of *s.  The whole part is exact (for sizes);
// *fraction is the part after the point, in [0, 1).
bool take_decimal(std::string_view *s, std::uint64_t *whole, double *fraction) {
  size_t i = 0;
  std::uint64_t w = 0;
  bool digits = false;
  for (; i < s->size() && is_digit((*s)[i]); ++i) {
    unsigned d = unsigned((*s)[i] - '0');
    if (w > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
    w = w * 10 + d;
    digits = true;
  }
  double f = 0, scale = 0.1;
  if (i < s->size() && (*s)[i] == '.') {
    for (++i; i < s->size() && is_digit((*s)[i]); ++i, scale /= 10) {
      f += ((*s)[i] - '0') * scale;
      digits = true;
    }
  }
  if (!digits) return false;
  s->remove_prefix(i);
  *whole = w;
  *fraction = f;
  return true;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = to_lower(a[i - 1]) == to_lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && to_lower(a[i - 1]) == to_lower(b[j - 2]) &&
          to_lower(a[i - 2]) == to_lower(b[j - 1]))
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Signals.

struct SignalName {
  const char *name;
  int signo;
};

// The first name of a number is the one signal_name prints.
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},   {"BUS", SIGBUS},       {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},   {"URG", SIGURG},       {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
    {"IO", SIGIO},
#ifdef SIGPWR
    {"PWR", SIGPWR},
#endif
    {"SYS", SIGSYS},   {"IOT", SIGABRT},    {"POLL", SIGIO},       {"CLD", SIGCHLD},
};

constexpr const char *kRtMinNames[] = {
    "RTMIN",    "RTMIN+1",  "RTMIN+2",  "RTMIN+3",  "RTMIN+4",  "RTMIN+5",  "RTMIN+6",  "RTMIN+7",
    "RTMIN+8",  "RTMIN+9",  "RTMIN+10", "RTMIN+11", "RTMIN+12", "RTMIN+13", "RTMIN+14", "RTMIN+15"};
constexpr const char *kRtMaxNames[] = {
    "RTMAX",    "RTMAX-1",  "RTMAX-2",  "RTMAX-3",  "RTMAX-4",  "RTMAX-5",  "RTMAX-6", "RTMAX-7",
    "RTMAX-8",  "RTMAX-9",  "RTMAX-10", "RTMAX-11", "RTMAX-12", "RTMAX-13", "RTMAX-14"};

// Why a signal that exists still cannot ask for a checkpoint, or "" when it can.
std::string unusable_signal(int signo) {
  std::string name = std::string("SIG") + signal_name(signo);
  switch (signo) {
    case SIGKILL:
    case SIGSTOP:
      return name + " cannot be caught, so it cannot ask for a checkpoint; use USR1, USR2 or TERM";
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGTRAP:
    case SIGSYS:
      return name + " reports a fault in the program and cannot ask for a checkpoint; "
                    "use USR1, USR2 or TERM";
    default:
      break;
  }
  if (signo > 0 && signo < SIGRTMIN && std::strcmp(signal_name(signo), "unknown") == 0)
    return "signal " + std::to_string(signo) + " is reserved by the C library; use USR1, USR2 or TERM";
  return "";
}

// parse_signal, saying why a signal is refused in *problem.
bool parse_signal_text(std::string_view text, int *signo, std::string *problem) {
  std::string_view s = trim(text);
  if (iequals(s, "none")) {
    *signo = 0;
    return true;
  }
  int sig = -1;
  std::uint64_t n = 0;
  if (parse_whole(s, std::uint64_t(SIGRTMAX), &n)) {
    if (n == 0) return false;
    sig = int(n);
  } else {
    if (istarts_with(s, "SIG")) s.remove_prefix(3);
    for (const SignalName &e : kSignals)
      if (iequals(s, e.name)) sig = e.signo;
    // RTMIN, RTMIN+n, RTMAX, RTMAX-n.
    if (istarts_with(s, "RTMIN") || istarts_with(s, "RTMAX")) {
      bool from_min = istarts_with(s, "RTMIN");
      std::string_view offset = s.substr(5);
      std::uint64_t k = 0;
      if (!offset.empty()) {
        if (offset[0] != (from_min ? '+' : '-')) return false;
        if (!parse_whole(offset.substr(1), std::uint64_t(SIGRTMAX - SIGRTMIN), &k)) return false;
      }
      sig = from_min ? SIGRTMIN + int(k) : SIGRTMAX - int(k);
    }
  }
  if (sig < 0) return false;
  if (std::string why = unusable_signal(sig); !why.empty()) {
    if (problem) *problem = why;
    return false;
  }
  *signo = sig;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The value types of options.def: for each tag, how a value is read (parse_value), printed
// (format_value), shown in the help (metavar) and described in an error (accepts).  parse_value
// returns false for a bad value and may say why in *problem; otherwise the error says what the
// type accepts.

using namespace option_type;

// Path: any text; "" stands for the default place.
bool parse_value(Path, std::string_view s, std::string *v, std::string *) {
  v->assign(s.data(), s.size());
  return true;
}
std::string format_value(Path, const std::string &v) { return v; }
std::string metavar(Path) { return "PATH"; }
std::string accepts(Path) { return "a directory"; }

// Duration: seconds.
bool parse_value(Duration, std::string_view text, double *v, std::string *) {
  std::string_view s = trim(text);
  std::uint64_t whole = 0;
  double fraction = 0, total = 0;
  if (s.empty()) return false;
  std::string_view rest = s;
  if (take_decimal(&rest, &whole, &fraction) && rest.empty()) {
    total = double(whole) + fraction;
  } else {
    // Components such as 1d, 2h, 30m, 10s, each unit at most once, largest first.
    int last_unit = 4;
    rest = s;
    while (!rest.empty()) {
      if (!take_decimal(&rest, &whole, &fraction) || rest.empty()) return false;
      static constexpr char kUnits[] = "smhd";
      static constexpr double kSeconds[] = {1, 60, 3600, 86400};
      const char *u = std::strchr(kUnits, to_lower(rest[0]));
      if (u == nullptr || *u == '\0') return false;
      int unit = int(u - kUnits);
      if (unit >= last_unit) return false;
      last_unit = unit;
      total += (double(whole) + fraction) * kSeconds[unit];
      rest.remove_prefix(1);
    }
  }
  if (!std::isfinite(total)) return false;
  *v = total;
  return true;
}
std::string format_value(Duration, double v) {
  char buf[64];
  if (v >= 60 && v < 1e15 && v == std::floor(v)) {
    auto s = std::uint64_t(v);
    std::string out;
    const std::pair<std::uint64_t, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    for (auto [seconds, unit] : units) {
      if (s >= seconds) {
        std::snprintf(buf, sizeof buf, "%llu%c", (unsigned long long)(s / seconds), unit);
        out += buf;
        s %= seconds;
      }
    }
    return out;
  }
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}
std::string metavar(Duration) { return "DURATION"; }
std::string accepts(Duration) {
  return "a duration: seconds (600, 0.5) or with units d, h, m, s (10m, 1h30m); 0 = none";
}

// Signal: its number; 0 = none.
bool parse_value(Signal, std::string_view s, int *v, std::string *problem) {
  return parse_signal_text(s, v, problem);
}
std::string format_value(Signal, int v) { return signal_name(v); }
std::string metavar(Signal) { return "SIGNAL"; }
std::string accepts(Signal) { return "a signal name or number (USR1, SIGTERM, 10) or none"; }

// Size: bytes, with binary suffixes.  Zero is not a size anything can use.
bool parse_value(Size, std::string_view text, std::uint64_t *v, std::string *) {
  std::string_view s = trim(text);
  std::uint64_t whole = 0;
  double fraction = 0;
  if (!take_decimal(&s, &whole, &fraction)) return false;
  std::uint64_t unit = 1;
  if (!s.empty()) {
    static constexpr char kSuffixes[] = "kmgtp";
    const char *p = std::strchr(kSuffixes, to_lower(s[0]));
    if (p != nullptr && *p != '\0') {
      unit = std::uint64_t(1) << (10 * (p - kSuffixes + 1));
      s.remove_prefix(1);
      if (iequals(s, "iB")) s.remove_prefix(2);
    }
    if (iequals(s, "B")) s.remove_prefix(1);
  }
  if (!s.empty()) return false;
  if (whole > std::numeric_limits<std::uint64_t>::max() / unit) return false;
  std::uint64_t bytes = whole * unit + std::uint64_t(std::llround(fraction * double(unit)));
  if (bytes < whole * unit || bytes == 0) return false;
  *v = bytes;
  return true;
}
std::string format_value(Size, std::uint64_t v) {
  static constexpr char kSuffixes[] = "PTGMK";
  for (int i = 0; i < 5; ++i) {
    std::uint64_t unit = std::uint64_t(1) << (10 * (5 - i));
    if (v != 0 && v % unit == 0) return std::to_string(v / unit) + kSuffixes[i];
  }
  return std::to_string(v);
}
std::string metavar(Size) { return "SIZE"; }
std::string accepts(Size) {
  return "a size in bytes, or with K, M, G or T (powers of 1024): 512M, 8G, 1T";
}

// Count and PositiveCount: whole numbers.
bool parse_value(Count, std::string_view s, unsigned *v, std::string *) {
  std::uint64_t n = 0;
  if (!parse_whole(trim(s), std::numeric_limits<unsigned>::max(), &n)) return false;
  *v = unsigned(n);
  return true;
}
std::string format_value(Count, unsigned v) { return std::to_string(v); }
std::string metavar(Count) { return "N"; }
std::string accepts(Count) { return "a whole number (0, 1, 2, ...)"; }

bool parse_value(PositiveCount, std::string_view s, unsigned *v, std::string *) {
  std::uint64_t n = 0;
  if (!parse_whole(trim(s), std::numeric_limits<unsigned>::max(), &n) || n < 1) return false;
  *v = unsigned(n);
  return true;
}
std::string format_value(PositiveCount, unsigned v) { return std::to_string(v); }
std::string metavar(PositiveCount) { return "N"; }
std::string accepts(PositiveCount) { return "a whole number ≥ 1"; }

// BigCount: a whole number of 64 bits (polls of a long run).
bool parse_value(BigCount, std::string_view s, std::uint64_t *v, std::string *) {
  return parse_whole(trim(s), std::numeric_limits<std::uint64_t>::max(), v);
}
std::string format_value(BigCount, std::uint64_t v) { return std::to_string(v); }
std::string metavar(BigCount) { return "N"; }
std::string accepts(BigCount) { return "a whole number (0, 1, 2, ...)"; }

// Switch: yes/true/on/1 or no/false/off/0.
bool parse_value(Switch, std::string_view text, bool *v, std::string *) {
  std::string_view s = trim(text);
  if (iequals(s, "yes") || iequals(s, "true") || iequals(s, "on") || s == "1") *v = true;
  else if (iequals(s, "no") || iequals(s, "false") || iequals(s, "off") || s == "0") *v = false;
  else return false;
  return true;
}
std::string format_value(Switch, bool v) { return v ? "yes" : "no"; }
std::string metavar(Switch) { return "yes|no"; }
std::string accepts(Switch) { return "yes or no (true/false, on/off, 1/0)"; }

// Verbosity: 0..3, or a yes/no word (yes = 1, the default level; no = 0).
bool parse_value(Verbosity, std::string_view text, unsigned *v, std::string *) {
  std::string_view s = trim(text);
  std::uint64_t n = 0;
  if (iequals(s, "yes") || iequals(s, "true") || iequals(s, "on")) n = 1;
  else if (iequals(s, "no") || iequals(s, "false") || iequals(s, "off")) n = 0;
  else if (!parse_whole(s, 3, &n)) return false;
  *v = unsigned(n);
  return true;
}
std::string format_value(Verbosity, unsigned v) { return std::to_string(v); }
std::string metavar(Verbosity) { return "0-3"; }
std::string accepts(Verbosity) { return "0, 1, 2 or 3 (or yes/true/on = 1, no/false/off = 0)"; }

// ExitStatus: what a job script sees; 0 would say "finished".
bool parse_value(ExitStatus, std::string_view s, int *v, std::string *) {
  std::uint64_t n = 0;
  if (!parse_whole(trim(s), 255, &n) || n < 1) return false;
  *v = int(n);
  return true;
}
std::string format_value(ExitStatus, int v) { return std::to_string(v); }
std::string metavar(ExitStatus) { return "STATUS"; }
std::string accepts(ExitStatus) { return "a whole number from 1 to 255"; }

// Choice<Enum>: one of the words of ChoiceWords<Enum>, in any case.
template <typename Enum> struct Word {
  const char *word;
  Enum value;
};
template <typename Enum> struct ChoiceWords;
template <> struct ChoiceWords<OnSignal> {
  static constexpr Word<OnSignal> words[] = {{"continue", OnSignal::Continue}, {"exit", OnSignal::Exit}};
};
template <> struct ChoiceWords<Restart> {
  static constexpr Word<Restart> words[] = {
      {"auto", Restart::Auto}, {"never", Restart::Never}, {"require", Restart::Require}};
};
template <> struct ChoiceWords<Compress> {
  static constexpr Word<Compress> words[] = {{"none", Compress::None}, {"zstd", Compress::Zstd}};
};

template <typename Enum>
bool parse_value(Choice<Enum>, std::string_view text, Enum *v, std::string *) {
  std::string_view s = trim(text);
  for (const auto &w : ChoiceWords<Enum>::words)
    if (iequals(s, w.word)) {
      *v = w.value;
      return true;
    }
  return false;
}
template <typename Enum> std::string format_value(Choice<Enum>, Enum v) {
  for (const auto &w : ChoiceWords<Enum>::words)
    if (w.value == v) return w.word;
  return "?";
}
template <typename Enum> std::string metavar(Choice<Enum>) {
  std::string out;
  for (const auto &w : ChoiceWords<Enum>::words) out += (out.empty() ? "" : "|") + std::string(w.word);
  return out;
}
template <typename Enum> std::string accepts(Choice<Enum>) {
  std::string out;
  const size_t n = std::size(ChoiceWords<Enum>::words);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += (i + 1 == n) ? " or " : ", ";
    out += ChoiceWords<Enum>::words[i].word;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The table generated from options.def.

struct OptionInfo {
  std::string_view name;  // STACK_SIZE: AUTOCKPT_STACK_SIZE, --stack-size
  const char *default_text;
  const char *help;
  bool (*parse)(std::string_view text, Options *out, std::string *problem);
  std::string (*format)(const Options &options);
  std::string (*metavar)();
  std::string (*accepts)();
};

constexpr OptionInfo kOptions[] = {
#define AUTOCKPT_OPTION(NAME, FIELD, TYPE, DEFAULT, HELP)                                          \
  {#NAME,                                                                                          \
   DEFAULT,                                                                                        \
   HELP,                                                                                           \
   [](std::string_view text, Options *out, std::string *problem) {                                 \
     return parse_value(TYPE{}, text, &out->FIELD, problem);                                       \
   },                                                                                              \
   [](const Options &options) { return format_value(TYPE{}, options.FIELD); },                     \
   [] { return metavar(TYPE{}); },                                                                 \
   [] { return accepts(TYPE{}); }},
#include "options.def"
#undef AUTOCKPT_OPTION
};

std::string env_name(const OptionInfo &o) { return std::string(kPrefix) + std::string(o.name); }

std::string flag_name(const OptionInfo &o) {
  std::string flag = "--";
  for (char c : o.name) flag += c == '_' ? '-' : to_lower(c);
  return flag;
}

const OptionInfo *find_option(std::string_view name) {
  for (const OptionInfo &o : kOptions)
    if (o.name == name) return &o;
  return nullptr;
}

// How a name was given, so that errors answer in the same form.
enum class Form { Env, Flag };

// "AUTOCKPT_INTERVL is not an autockpt setting; did you mean AUTOCKPT_INTERVAL? (...)"
std::string unknown_option_message(std::string_view given, std::string_view bare, Form form) {
  std::vector<std::string_view> names;
  for (const OptionInfo &o : kOptions) names.push_back(o.name);
  std::string_view best = closest_match(bare, names);
  std::string out = std::string(given) +
                    (form == Form::Env ? " is not an autockpt setting" : " is not an autockpt option");
  if (!best.empty()) {
    const OptionInfo *o = find_option(best);
    out += "; did you mean " + (form == Form::Env ? env_name(*o) : flag_name(*o)) + "?";
  }
  return out + " (see `autockpt --help`)";
}

// Reads one value into *out; returns the error message, or "" when the value was good.
std::string apply(const OptionInfo &o, std::string_view value, Options *out, Form form) {
  std::string problem;
  if (o.parse(value, out, &problem)) return "";
  std::string where = form == Form::Env ? env_name(o) : flag_name(o);
  std::string out_msg = value.empty() ? where + " is empty"
                                      : where + "=" + std::string(value);
  return out_msg + ": " + (problem.empty() ? "expected " + o.accepts() : problem);
}

// "--stack-size", "stack-size", "STACK_SIZE" → STACK_SIZE; "AUTOCKPT_STACK_SIZE" → STACK_SIZE.
std::string bare_name(std::string_view name_or_flag, Form *form) {
  if (starts_with(name_or_flag, kPrefix)) {
    *form = Form::Env;
    return std::string(name_or_flag.substr(kPrefix.size()));
  }
  *form = Form::Flag;
  if (starts_with(name_or_flag, "--")) name_or_flag.remove_prefix(2);
  std::string bare;
  for (char c : name_or_flag) bare += c == '-' ? '_' : to_upper(c);
  return bare;
}

// "<program>.ckpt" in Markdown would be read as an HTML tag.
std::string markdown_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

// Writes text wrapped at `width` columns, each line indented by `indent` spaces.
void print_wrapped(FILE *out, std::string_view text, size_t indent, size_t width) {
  size_t column = 0;
  while (!text.empty()) {
    size_t end = text.find(' ');
    std::string_view word = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (word.empty()) continue;
    if (column > 0 && column + 1 + word.size() > width) {
      std::fputc('\n', out);
      column = 0;
    }
    if (column == 0) {
      std::fprintf(out, "%*s", int(indent), "");
      column = indent;
    } else {
      std::fputc(' ', out);
      ++column;
    }
    std::fwrite(word.data(), 1, word.size(), out);
    column += word.size();
  }
  if (column > 0) std::fputc('\n', out);
}

}  // namespace

Options::Options() {
  for (const OptionInfo &o : kOptions) {
    std::string problem;
    if (!o.parse(o.default_text, this, &problem)) {
      std::fprintf(stderr, "autockpt: options.def: the default of AUTOCKPT_%.*s does not parse\n",
                   int(o.name.size()), o.name.data());
      std::abort();
    }
  }
}

Status parse_environment(char **envp, Options *out) {
  *out = Options();
  bool seen[std::size(kOptions)] = {};
  std::string errors;
  for (char **entry = envp; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text = *entry;
    if (!starts_with(text, kPrefix) || starts_with(text, kReservedPrefix)) continue;
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view var = text.substr(0, eq), value = text.substr(eq + 1);
    const OptionInfo *o = find_option(var.substr(kPrefix.size()));
    std::string error;
    if (o == nullptr) {
      error = unknown_option_message(var, var.substr(kPrefix.size()), Form::Env);
    } else if (!seen[o - kOptions]) {
      seen[o - kOptions] = true;
      error = apply(*o, value, out, Form::Env);
    }
    if (!error.empty()) errors += (errors.empty() ? "" : "\n") + error;
  }
  return errors.empty() ? Status::ok() : Status::error(errors);
}

Status set_option(const std::string &name_or_flag, const std::string &value, Options *out) {
  Form form;
  std::string bare = bare_name(name_or_flag, &form);
  const OptionInfo *o = find_option(bare);
  if (o == nullptr) return Status::error(unknown_option_message(name_or_flag, bare, form));
  std::string error = apply(*o, value, out, form);
  return error.empty() ? Status::ok() : Status::error(error);
}

std::string option_env_name(std::string_view name_or_flag) {
  Form form;
  const OptionInfo *o = find_option(bare_name(name_or_flag, &form));
  return o ? env_name(*o) : std::string();
}

void print_options_help(FILE *out) {
  std::fprintf(out, "Settings: environment variables, or flags of `autockpt run` (default after =):\n");
  for (const OptionInfo &o : kOptions) {
    std::string flag = flag_name(o) + " " + o.metavar();
    std::string env = env_name(o) + (*o.default_text ? "=" + std::string(o.default_text) : " (unset)");
    std::fprintf(out, "  %-30s %s\n", flag.c_str(), env.c_str());
    print_wrapped(out, o.help, 6, 96);
  }
  std::fprintf(out,
               "An unknown AUTOCKPT_ variable or an unreadable value stops the program at startup.\n");
}

std::string options_markdown_table() {
  std::string out = "| Setting | Default | Meaning |\n|---|---|---|\n";
  for (const OptionInfo &o : kOptions) {
    out += "| `" + env_name(o) + "`<br>`" + flag_name(o) + " " + markdown_escape(o.metavar()) + "` | ";
    out += *o.default_text ? "`" + std::string(o.default_text) + "`" : std::string("*unset*");
    out += " | " + markdown_escape(o.help) + " |\n";
  }
  return out;
}

std::string option_formats_markdown() {
  return "- `DURATION`: " + accepts(Duration{}) + ".\n" +
         "- `SIZE`: " + accepts(Size{}) + "; a trailing B or iB is allowed (8GiB).\n" +
         "- `SIGNAL`: " + accepts(Signal{}) + "; also RTMIN+n and RTMAX-n. " +
         "KILL and STOP cannot be caught, and SEGV, BUS, ILL, FPE, TRAP and SYS report faults, " +
         "so none of these can ask for a checkpoint.\n";
}

std::string describe_options(const Options &options) {
  std::string out;
  for (const OptionInfo &o : kOptions) out += env_name(o) + "=" + o.format(options) + "\n";
  return out;
}

std::string checkpoint_dir(const Options &options, std::string_view exe_path) {
  if (!options.dir.empty()) return options.dir;
  size_t slash = exe_path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? exe_path : exe_path.substr(slash + 1);
  return (base.empty() ? std::string("autockpt") : std::string(base)) + ".ckpt";
}

bool parse_signal(std::string_view text, int *signo) { return parse_signal_text(text, signo, nullptr); }

const char *signal_name(int signo) {
  if (signo == 0) return "none";
  for (const SignalName &e : kSignals)
    if (e.signo == signo) return e.name;
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
    int from_min = signo - SIGRTMIN, from_max = SIGRTMAX - signo;
    if (from_min < int(std::size(kRtMinNames))) return kRtMinNames[from_min];
    if (from_max < int(std::size(kRtMaxNames))) return kRtMaxNames[from_max];
  }
  return "unknown";
}

std::string_view closest_match(std::string_view word, const std::vector<std::string_view> &candidates) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  // First choice: a small edit distance (a third of the candidate's length, at least 1).
  for (std::string_view c : candidates) {
    size_t d = edit_distance(word, c);
    if (d <= std::max<size_t>(1, c.size() / 3) && d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best.empty()) return best;
  // Then: one contains the other (CHECKPOINT_DIR → DIR, SIG → SIGNAL), the nearest such.
  for (std::string_view c : candidates) {
    bool related = (c.size() >= 3 && icontains(word, c)) || (word.size() >= 3 && icontains(c, word));
    size_t d = edit_distance(word, c);
    if (related && d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace autockpt
