// Names for code addresses (symbols.h): used by the messages that say where a thread is or which
// frames keep a checkpoint from being taken.
#include "symbols.h"

#include "control.h"

#include <csignal>
#include <dlfcn.h>
#include <execinfo.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vector>

namespace autockpt::symbols {

// The function of the executable (its symbol table, static functions included) or of a library
// (its dynamic symbols) that holds `pc`; null if none is known.
const char *function_name_at(uintptr_t pc) {
  struct Symtab {
    std::vector<std::pair<uintptr_t, uintptr_t>> ranges;  // [start, end) in the running process
    std::vector<std::string> names;
  };
  static Symtab *exe = [] {
    RuntimeHeap runtime_heap;
    auto *t = new Symtab;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
      return t;
    void *map = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
      return t;
    auto *base = static_cast<const char *>(map);
    auto *eh = reinterpret_cast<const ElfW(Ehdr) *>(base);
    auto *sh = reinterpret_cast<const ElfW(Shdr) *>(base + eh->e_shoff);
    uintptr_t bias = 0;
    dl_iterate_phdr([](dl_phdr_info *info, size_t, void *arg) {
      *static_cast<uintptr_t *>(arg) = info->dlpi_addr;
      return 1;  // the first object is the executable
    }, &bias);
    for (int k = 0; k < eh->e_shnum; ++k) {
      if (sh[k].sh_type != SHT_SYMTAB)
        continue;
      auto *syms = reinterpret_cast<const ElfW(Sym) *>(base + sh[k].sh_offset);
      const char *str = base + sh[sh[k].sh_link].sh_offset;
      for (size_t j = 0; j < sh[k].sh_size / sizeof(ElfW(Sym)); ++j)
        if (ELF64_ST_TYPE(syms[j].st_info) == STT_FUNC && syms[j].st_size) {
          t->ranges.push_back({bias + syms[j].st_value, bias + syms[j].st_value + syms[j].st_size});
          t->names.push_back(str + syms[j].st_name);
        }
    }
    munmap(map, size_t(st.st_size));
    return t;
  }();
  for (size_t k = 0; k < exe->ranges.size(); ++k)
    if (pc >= exe->ranges[k].first && pc < exe->ranges[k].second)
      return exe->names[k].c_str();
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(pc), &info) && info.dli_sname)
    return info.dli_sname;
  return nullptr;
}

std::string object_name_at(uintptr_t pc) {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(pc), &info) || !info.dli_fname || !*info.dli_fname) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
      return "?";
    exe[n] = 0;
    const char *slash = strrchr(exe, '/');
    return slash ? slash + 1 : exe;
  }
  const char *slash = strrchr(info.dli_fname, '/');
  return slash ? slash + 1 : info.dli_fname;
}

std::string describe_frame(uintptr_t return_address) {
  uintptr_t pc = return_address - 1;
  const char *name = function_name_at(pc);
  if (name && strcmp(name, "__autockpt_user_main") == 0)
    name = "main";  // the pass renames the program's main
  return std::string(name ? name : "??") + " (" + object_name_at(pc) + ")";
}

namespace {

constexpr int kWhereSignal = 38;  // SIGRTMIN + 4 on glibc: the thread records its stack
void *g_where[24];
volatile int g_where_n = -1;

void record_where(int) {
  g_where_n = backtrace(g_where, 24);
}

}  // namespace

std::string where_is(pthread_t th) {
  static bool installed = [] {
    void *warm[2];
    backtrace(warm, 2);  // loads libgcc's unwinder now, not in the handler
    struct sigaction sa = {};
    sa.sa_handler = record_where;
    sa.sa_flags = SA_RESTART;
    sigaction(kWhereSignal, &sa, nullptr);
    return true;
  }();
  (void)installed;
  g_where_n = -1;
  if (pthread_kill(th, kWhereSignal) != 0)
    return "(gone)";
  for (int k = 0; k < 200 && g_where_n < 0; ++k)
    usleep(1000);
  if (g_where_n < 0)
    return "(its stack could not be read)";
  std::string out;
  int shown = 0;
  for (int k = 2; k < g_where_n && shown < 8; ++k) {  // past the handler and the signal frame
    const char *name = function_name_at(reinterpret_cast<uintptr_t>(g_where[k]) - 1);
    if (!name)
      continue;
    if (strncmp(name, "_ZN8autockpt", 12) == 0)
      break;  // the runtime's own frames, below the program's
    bool main = strcmp(name, "__autockpt_user_main") == 0;  // the program's main, renamed
    if (!main && strncmp(name, "__autockpt", 10) == 0)
      continue;
    if (!out.empty())
      out += " <- ";
    out += main ? "main" : name;
    ++shown;
  }
  return out.empty() ? "(no named function)" : out;
}

}  // namespace autockpt::symbols
