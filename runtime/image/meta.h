// The structured metadata of an image (its Meta section): who wrote it, where things were, and
// where each piece of saved memory lies in the bulk sections.  Serialized as a Boost.Serialization
// binary archive; BOOST_CLASS_VERSION(ImageMeta) is the metadata format version, so a field added
// later is read only when `version` says the archive has it (the same for each record type: Boost
// stores every class's version, so FrameRecord's slots are read from images that have them).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>

#include "status.h"

namespace autockpt::image {

struct GlobalRecord {
  std::string module;
  std::string name;
  uint64_t addr = 0, size = 0;
  uint64_t offset = 0;  // into the Globals section

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & module & name & addr & size & offset;
  }
};

// What one field of a saved frame holds (autockpt_slot of include/autockpt/abi.h), for
// `autockpt inspect`; a restart does not read it.
struct SlotRecord {
  std::string name;  // the source variable(s); empty for a temporary
  std::string type;
  uint64_t offset = 0, size = 0;  // in the frame's payload
  uint32_t kind = 0;              // AUTOCKPT_SLOT_*
  uint32_t flags = 0;             // AUTOCKPT_SLOT_ADDRESS_OF

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & name & type & offset & size & kind & flags;
  }
};

// One saved frame; its payload lies in the Frames section.  ImageMeta::frames is innermost first.
struct FrameRecord {
  uint64_t fid = 0;
  uint32_t spid = 0;
  uint64_t layout = 0;
  std::string function, file;
  uint32_t line = 0;
  uint64_t offset = 0, size = 0;  // into the Frames section
  std::vector<SlotRecord> slots;  // since version 1; empty in older images

  template <class A>
  void serialize(A &a, unsigned version) {
    a & fid & spid & layout & function & file & line & offset & size;
    if (version >= 1) a & slots;
  }
};

struct LibraryRecord {
  std::string path, build_id;  // build_id in hex
  uint64_t base = 0;

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & path & build_id & base;
  }
};

// An open file; its saved state (if any) lies in the Files section.
struct FileRecord {
  int32_t fd = -1;
  std::string path;
  int32_t flags = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t kind = 0;

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & fd & path & flags & offset & size & kind;
  }
};

// A thread the program started (threads/), besides the one that runs main.  Its frame records
// and thread-local variables lie in the Threads section.
struct ThreadRecord {
  uint32_t index = 0;   // creation order, from 1
  uint32_t slot = 0;    // where its stack is (threads/)
  uint32_t status = 0;  // threads::Status
  uint32_t detached = 0;
  uint64_t handle = 0;  // its pthread_t
  uint64_t start = 0, arg = 0, retval = 0;
  uint64_t stack_addr = 0, stack_size = 0;
  uint32_t user_stack = 0;  // the program gave it its stack
  std::vector<FrameRecord> frames;  // innermost first; offsets from frames_offset
  uint64_t frames_offset = 0, frames_size = 0;  // into the Threads section
  uint64_t tls_offset = 0, tls_size = 0;

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & index & slot & status & detached & handle & start & arg & retval;
    a & stack_addr & stack_size & user_stack & frames & frames_offset & frames_size;
    a & tls_offset & tls_size;
  }
};

// (A vector of records: written so before the bounded reader of archive.h could read a vector of
// integers; kept, as images already hold it.)
struct TidRecord {
  uint64_t tid = 0, index = 0;

  template <class A>
  void serialize(A &a, unsigned /*version*/) {
    a & tid & index;
  }
};

struct ImageMeta {
  uint32_t abi_version = 0;
  std::string exe_path, build_id /*hex*/;
  std::vector<LibraryRecord> libraries;
  uint64_t generation = 0;
  int64_t created_unix_ns = 0;
  uint32_t rank = 0, nranks = 1;
  std::string hostname;
  int64_t pid = 0;
  uint64_t checkpoint_count = 0;
  std::string reason;
  uint64_t heap_base = 0, heap_size = 0;
  uint64_t stack_base = 0, stack_size = 0;
  int32_t argc = 0;
  uint64_t argv_addr = 0, envp_addr = 0;
  std::vector<GlobalRecord> globals;
  std::vector<FrameRecord> frames;
  std::vector<FileRecord> files;
  std::vector<ThreadRecord> threads;  // since version 2
  // Every kernel thread id the run's threads had at this or an earlier checkpoint, with the
  // creation index of the thread (0: main).  Since version 2.
  std::vector<TidRecord> tid_index;

  template <class A>
  void serialize(A &a, unsigned version) {
    a & abi_version & exe_path & build_id & libraries;
    a & generation & created_unix_ns & rank & nranks & hostname & pid & checkpoint_count & reason;
    a & heap_base & heap_size & stack_base & stack_size & argc & argv_addr & envp_addr;
    a & globals & frames & files;
    if (version >= 2) a & threads & tid_index;
  }
};

// The bytes of the Meta section.
std::string encode_meta(const ImageMeta &meta);

// Parses the bytes of a Meta section; an archive that cannot be parsed is an error that says so.
Status decode_meta(const std::string &bytes, ImageMeta *out);

}  // namespace autockpt::image

BOOST_CLASS_VERSION(autockpt::image::ImageMeta, 2)
BOOST_CLASS_VERSION(autockpt::image::FrameRecord, 1)
