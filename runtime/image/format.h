// The on-disk layout of a checkpoint image (DESIGN D6): a fixed-size header at offset 0, sections
// at 4096-byte aligned offsets, and the section table at the end.  Writing and reading the layout
// is left to writer.h and reader.h; the structured metadata inside the Meta section is in meta.h.
//
// All integers are stored in the host's byte order (little-endian on every supported target).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace autockpt::image {

inline constexpr char kMagic[8] = {'A', 'U', 'T', 'O', 'C', 'K', 'P', 'T'};
// 2: the heap is saved as extents (R22).  3: an image may be incremental (R24): it names its base
// image and holds only the heap pages changed since.  A full image is still written as version 2,
// which older builds read; an incremental one is 3, which they refuse by number.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kOldestFormatVersion = 2;  // the oldest version this build reads
inline constexpr uint32_t kFullFormatVersion = 2;    // what a full image is written as
inline constexpr uint64_t kSectionAlignment = 4096;  // where each section's data starts; the
                                                     // reader's O_DIRECT path relies on it
inline constexpr uint64_t kIoChunk = 8 << 20;        // the size of one write or read of bulk data
inline constexpr uint32_t kMaxSections = 1024;       // a sanity bound for readers

// Written last, at offset 0, once every section and the section table are on disk.
struct FileHeader {
  char magic[8];            // kMagic, no NUL
  uint32_t format_version;  // kFormatVersion
  uint32_t header_size;     // sizeof(FileHeader)
  uint32_t section_count;
  uint32_t flags;                 // kImageIncremental or 0
  uint64_t section_table_offset;  // section_count SectionEntry records
  uint8_t build_id[64];           // the executable's GNU build-id, raw bytes
  uint32_t build_id_len;
  uint32_t rank;
  uint64_t generation;
  uint64_t created_unix_ns;
  uint64_t section_table_checksum;  // XXH3_64bits of the section table
  // An incremental image (flags & kImageIncremental, format 3): the generation of the image it
  // builds on (the same rank's, in the same directory), that image's header_checksum, and how
  // many incremental images lead back to a full one, this one included.  Zero in a full image.
  uint64_t base_generation;
  uint64_t base_header_checksum;
  uint32_t chain_length;
  uint32_t pad;                     // zero
  uint8_t reserved[96];             // zero
  uint64_t header_checksum;         // XXH3_64bits of the header with this field zeroed; last
};
static_assert(sizeof(FileHeader) == 256, "the image header is 256 bytes on disk");
static_assert(offsetof(FileHeader, base_generation) == 128, "the base follows the table checksum");
static_assert(offsetof(FileHeader, header_checksum) == 248,
              "the header checksum is the header's last field");

enum class SectionKind : uint32_t {
  Meta = 1,     // ImageMeta, a Boost.Serialization binary archive
  Globals = 2,  // the bytes of every global, in GlobalRecord order
  Heap = 3,     // the arena's saved extents, one after the other (HeapExtents says where)
  Frames = 4,   // frame records, innermost first
  Files = 5,
  Libc = 6,
  Mpi = 7,
  Cuda = 8,
  Threads = 9,  // the frame records and thread-local variables of every thread but main
  OpenMP = 10,  // the OpenMP settings and the thread-local variables of libomp's workers (omp/)
  Fortran = 11,  // the units Fortran OPEN statements opened (fortran/units.cpp)
  HeapExtents = 12,  // HeapExtent records: where each part of the Heap section goes
  HeapKeep = 13,     // HeapExtent records: the pages an incremental image takes from its base
};

// The image is incremental (R24): the heap is its base image's heap, then every page outside
// HeapKeep and HeapExtents made zero, then the Heap section's extents read into place.
inline constexpr uint32_t kImageIncremental = 1u << 0;

// "Heap", "Frames", ...; "Unknown" for a kind this build does not know.
const char *section_name(SectionKind kind);

inline constexpr uint32_t kSectionZstd = 1u << 0;  // the stored bytes are one zstd frame (R23)

struct SectionEntry {
  uint32_t kind;  // a SectionKind
  uint32_t flags;
  uint64_t offset;         // from the start of the file, a multiple of kSectionAlignment
  uint64_t stored_length;  // bytes in the file
  uint64_t raw_length;     // bytes once decompressed (== stored_length when not compressed)
  uint64_t checksum;       // XXH3_64bits of the stored bytes
};
static_assert(sizeof(SectionEntry) == 40, "a section table entry is 40 bytes on disk");

// One part of the Heap section: `length` bytes that belong at `offset` from the heap's base.
// Extents start at page boundaries, are in address order, and do not overlap; the heap reads as
// zero between them (design R22).
struct HeapExtent {
  uint64_t offset;
  uint64_t length;
};
static_assert(sizeof(HeapExtent) == 16, "a heap extent is 16 bytes on disk");

// The HeapExtents section's bytes for `extents`, and back: decode checks that they are
// at page boundaries, ordered, end within `limit` bytes of the base, and add up to `stored` (the Heap
// section's length); the error says which rule an extent breaks.
std::string encode_heap_extents(const HeapExtent *extents, uint64_t count);
bool decode_heap_extents(const std::string &bytes, uint64_t limit, uint64_t stored,
                         std::vector<HeapExtent> *out, std::string *error);
// The same for runs whose total is not known in advance (HeapKeep); *total gets it.
bool decode_heap_runs(const std::string &bytes, uint64_t limit, std::vector<HeapExtent> *out,
                      uint64_t *total, std::string *error);

// Who wrote an image: copied into its header.
struct Identity {
  std::string build_id_bytes;  // raw bytes, at most 64
  uint32_t rank = 0;
  uint64_t generation = 0;
  uint64_t created_unix_ns = 0;
};

// Which image an incremental image builds on (FileHeader's base fields).
struct Base {
  uint64_t generation = 0;
  uint64_t header_checksum = 0;
  uint32_t chain_length = 0;  // this image's: the base's plus one
};

// XXH3_64bits of `h` with its header_checksum field taken as zero.
uint64_t compute_header_checksum(const FileHeader &h);

// XXH3_64bits of `count` section table entries.
uint64_t compute_table_checksum(const SectionEntry *entries, uint32_t count);

// Lower-case hex of raw bytes.
std::string to_hex(const void *data, uint64_t size);

}  // namespace autockpt::image
