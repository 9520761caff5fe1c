// Who this process is, for binding an image to the executable that wrote it (DESIGN D3).
#pragma once

#include <string>
#include <vector>

namespace autockpt::identity {

struct Library {
  std::string path;
  std::string build_id;  // hex, empty if the object has none
  unsigned long base;
};

std::string executable_path();
// The executable's GNU build-id as raw bytes; when the linker emitted none, a hash of the file.
const std::string &executable_build_id();
std::string hex(const std::string &bytes);
std::vector<Library> libraries();  // every loaded shared object but the executable

}  // namespace autockpt::identity
