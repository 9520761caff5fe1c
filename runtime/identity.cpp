// Build-ids from the program headers of the loaded objects (dl_iterate_phdr).
#include "identity.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>
#include <xxhash.h>

#include <climits>
#include <cstring>

namespace autockpt::identity {

namespace {

std::string buildIdOf(const dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE)
      continue;
    const char *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
    const char *end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      auto *n = reinterpret_cast<const ElfW(Nhdr) *>(p);
      const char *name = p + sizeof(ElfW(Nhdr));
      const char *desc = name + ((n->n_namesz + 3) & ~3u);
      if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0)
        return std::string(desc, n->n_descsz);
      p = desc + ((n->n_descsz + 3) & ~3u);
    }
  }
  return "";
}

std::string hashOfFile(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return "";
  XXH3_state_t *st = XXH3_createState();
  XXH3_128bits_reset(st);
  char buf[1 << 16];
  ssize_t k;
  while ((k = read(fd, buf, sizeof buf)) > 0)
    XXH3_128bits_update(st, buf, size_t(k));
  close(fd);
  XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  return std::string(reinterpret_cast<const char *>(&h), sizeof h);
}

}  // namespace

std::string executable_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

const std::string &executable_build_id() {
  static const std::string id = [] {
    std::string found;
    dl_iterate_phdr(
        [](dl_phdr_info *info, size_t, void *out) {
          *static_cast<std::string *>(out) = buildIdOf(info);
          return 1;  // the first object is the executable
        },
        &found);
    return found.empty() ? hashOfFile(executable_path()) : found;
  }();
  return id;
}

std::string hex(const std::string &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

std::vector<Library> libraries() {
  std::vector<Library> libs;
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *out) {
        if (info->dlpi_name && info->dlpi_name[0])
          static_cast<std::vector<Library> *>(out)->push_back(
              {info->dlpi_name, hex(buildIdOf(info)), (unsigned long)info->dlpi_addr});
        return 0;
      },
      &libs);
  return libs;
}

}  // namespace autockpt::identity
