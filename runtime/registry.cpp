// The registry of instrumented modules.
#include "registry.h"

#include "log.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

namespace autockpt::registry {

namespace {

constexpr size_t kMaxModules = 1 << 16;
const autockpt_module *g_modules[kMaxModules];  // constant-initialised: safe before main
size_t g_nmodules;

// Made by finalize(), which runs before the runtime's own global objects are constructed
// (control.cpp's start()): a global with a constructor here would be reset after it.
struct Tables {
  std::vector<Global> globals;
  std::unordered_map<uint64_t, const autockpt_function *> by_fid;
  std::unordered_set<uintptr_t> entries;
  std::vector<void *const *> nosave_pointers;
};
Tables *g_tables;

Tables &tables() {
  if (!g_tables)
    g_tables = new Tables;
  return *g_tables;
}

}  // namespace

void add(const autockpt_module *m) {
  if (g_nmodules == kMaxModules)
    fatal("more than %zu instrumented modules", kMaxModules);
  g_modules[g_nmodules++] = m;
}

void finalize() {
  Tables &t = tables();
  t.globals.clear();
  t.nosave_pointers.clear();
  for (size_t i = 0; i < g_nmodules; ++i) {
    const autockpt_module *m = g_modules[i];
    if (m->abi_version != AUTOCKPT_ABI_VERSION)
      fatal("%s was compiled by an autockpt pass with ABI version %u, but this runtime has "
            "version %u; rebuild it with the same autockpt as the runtime", m->name,
            m->abi_version, AUTOCKPT_ABI_VERSION);
    for (uint64_t k = 0; k < m->nglobals; ++k)
      t.globals.push_back({m->globals[k].addr, m->globals[k].size, m->globals[k].name, m->name});
    for (uint64_t k = 0; k < m->nnosave_pointers; ++k)
      t.nosave_pointers.push_back(static_cast<void *const *>(m->nosave_pointers[k]));
    for (uint64_t k = 0; k < m->nfunctions; ++k) {
      const autockpt_function *f = &m->functions[k];
      t.by_fid.emplace(f->fid, f);
      t.entries.insert(reinterpret_cast<uintptr_t>(f->addr));
    }
  }
  // The same weak or inline variable may be listed by several modules: keep one.
  std::sort(t.globals.begin(), t.globals.end(),
            [](const Global &a, const Global &b) { return a.addr < b.addr; });
  t.globals.erase(std::unique(t.globals.begin(), t.globals.end(),
                              [](const Global &a, const Global &b) { return a.addr == b.addr; }),
                  t.globals.end());
}

const std::vector<Global> &globals() { return tables().globals; }
const std::vector<void *const *> &nosave_pointers() { return tables().nosave_pointers; }

const autockpt_function *function(uint64_t fid) {
  auto it = tables().by_fid.find(fid);
  return it == tables().by_fid.end() ? nullptr : it->second;
}

const char *function_name(uint64_t fid) {
  if (const autockpt_function *f = function(fid))
    return f->name;
  static char buf[40];
  snprintf(buf, sizeof buf, "function %#llx", (unsigned long long)fid);
  return buf;
}

bool is_instrumented_entry(uintptr_t entry) { return tables().entries.count(entry) != 0; }
size_t function_count() { return tables().by_fid.size(); }

}  // namespace autockpt::registry
