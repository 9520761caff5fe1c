// Tests of one image file: what ImageWriter writes ImageReader reads back, and every kind of
// damage (flipped byte, truncation, foreign file, other format version) is refused by name.
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/mman.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/serialization/vector.hpp>

#include "image/archive.h"
#include "image/reader.h"
#include "image/writer.h"
#include "temp_dir.h"

namespace autockpt::image {
namespace {

using ::testing::HasSubstr;

ImageMeta sample_meta() {
  ImageMeta m;
  m.abi_version = 1;
  m.exe_path = "/home/user/sim";
  m.build_id = "0123456789abcdef0123456789abcdef01234567";
  m.libraries = {{"/lib/x86_64-linux-gnu/libc.so.6", "aabbcc", 0x7f0000000000},
                 {"/usr/lib/libstdc++.so.6", "ddeeff", 0x7f1000000000}};
  m.generation = 7;
  m.created_unix_ns = 1700000000123456789;
  m.rank = 3;
  m.nranks = 8;
  m.hostname = "node042";
  m.pid = 4242;
  m.checkpoint_count = 12;
  m.reason = "timer";
  m.heap_base = 0x100000000000;
  m.heap_size = 64 << 20;
  m.stack_base = 0x200000000000;
  m.stack_size = 8 << 20;
  m.argc = 3;
  m.argv_addr = 0x100000000100;
  m.envp_addr = 0x100000000200;
  m.globals = {{"sim.c", "counter", 0x601000, 8, 0}, {"grid.c", "grid", 0x602000, 4096, 8}};
  m.frames = {{11, 2, 0xabcdef, "step", "sim.c", 40, 0, 64, {{"x", "double", 0, 8, 3, 0}}},
              {12, 5, 0x123456, "main", "sim.c", 90, 64, 32,
               {{"", "i64", 0, 8, 1, 0}, {"grid", "double *", 8, 8, 4, 1}}}};
  m.files = {{3, "/tmp/out.txt", O_WRONLY | O_CREAT, 1234, 5678, 1}};
  return m;
}

void expect_same_meta(const ImageMeta &a, const ImageMeta &b) {
  EXPECT_EQ(a.abi_version, b.abi_version);
  EXPECT_EQ(a.exe_path, b.exe_path);
  EXPECT_EQ(a.build_id, b.build_id);
  ASSERT_EQ(a.libraries.size(), b.libraries.size());
  for (size_t i = 0; i < a.libraries.size(); ++i) {
    EXPECT_EQ(a.libraries[i].path, b.libraries[i].path);
    EXPECT_EQ(a.libraries[i].build_id, b.libraries[i].build_id);
    EXPECT_EQ(a.libraries[i].base, b.libraries[i].base);
  }
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.created_unix_ns, b.created_unix_ns);
  EXPECT_EQ(a.rank, b.rank);
  EXPECT_EQ(a.nranks, b.nranks);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.checkpoint_count, b.checkpoint_count);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.heap_base, b.heap_base);
  EXPECT_EQ(a.heap_size, b.heap_size);
  EXPECT_EQ(a.stack_base, b.stack_base);
  EXPECT_EQ(a.stack_size, b.stack_size);
  EXPECT_EQ(a.argc, b.argc);
  EXPECT_EQ(a.argv_addr, b.argv_addr);
  EXPECT_EQ(a.envp_addr, b.envp_addr);
  ASSERT_EQ(a.globals.size(), b.globals.size());
  for (size_t i = 0; i < a.globals.size(); ++i) {
    EXPECT_EQ(a.globals[i].module, b.globals[i].module);
    EXPECT_EQ(a.globals[i].name, b.globals[i].name);
    EXPECT_EQ(a.globals[i].addr, b.globals[i].addr);
    EXPECT_EQ(a.globals[i].size, b.globals[i].size);
    EXPECT_EQ(a.globals[i].offset, b.globals[i].offset);
  }
  ASSERT_EQ(a.frames.size(), b.frames.size());
  for (size_t i = 0; i < a.frames.size(); ++i) {
    EXPECT_EQ(a.frames[i].fid, b.frames[i].fid);
    EXPECT_EQ(a.frames[i].spid, b.frames[i].spid);
    EXPECT_EQ(a.frames[i].layout, b.frames[i].layout);
    EXPECT_EQ(a.frames[i].function, b.frames[i].function);
    EXPECT_EQ(a.frames[i].file, b.frames[i].file);
    EXPECT_EQ(a.frames[i].line, b.frames[i].line);
    EXPECT_EQ(a.frames[i].offset, b.frames[i].offset);
    EXPECT_EQ(a.frames[i].size, b.frames[i].size);
    ASSERT_EQ(a.frames[i].slots.size(), b.frames[i].slots.size());
    for (size_t k = 0; k < a.frames[i].slots.size(); ++k) {
      const SlotRecord &x = a.frames[i].slots[k], &y = b.frames[i].slots[k];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.type, y.type);
      EXPECT_EQ(x.offset, y.offset);
      EXPECT_EQ(x.size, y.size);
      EXPECT_EQ(x.kind, y.kind);
      EXPECT_EQ(x.flags, y.flags);
    }
  }
  ASSERT_EQ(a.files.size(), b.files.size());
  for (size_t i = 0; i < a.files.size(); ++i) {
    EXPECT_EQ(a.files[i].fd, b.files[i].fd);
    EXPECT_EQ(a.files[i].path, b.files[i].path);
    EXPECT_EQ(a.files[i].flags, b.files[i].flags);
    EXPECT_EQ(a.files[i].offset, b.files[i].offset);
    EXPECT_EQ(a.files[i].size, b.files[i].size);
    EXPECT_EQ(a.files[i].kind, b.files[i].kind);
  }
}

Identity sample_identity() {
  Identity id;
  id.build_id_bytes = std::string("\x01\x23\x45\x67\x89\xab\xcd\xef\x00\xff", 10);
  id.rank = 3;
  id.generation = 7;
  id.created_unix_ns = 1700000000123456789;
  return id;
}

// Writes an image with a Meta section and a 1 MiB Heap section; returns the heap's bytes.
std::string write_small_image(const std::string &path) {
  std::string heap(1 << 20, '\0');
  for (size_t i = 0; i < heap.size(); ++i) heap[i] = char(i * 7 + 1);
  std::unique_ptr<ImageWriter> w;
  EXPECT_TRUE(ImageWriter::create(path, sample_identity(), &w).is_ok());
  EXPECT_TRUE(w->add_section(SectionKind::Meta, encode_meta(sample_meta())).is_ok());
  EXPECT_TRUE(w->add_section(SectionKind::Heap, heap).is_ok());
  EXPECT_TRUE(w->commit().is_ok());
  return heap;
}

uint64_t file_size(const std::string &path) { return std::filesystem::file_size(path); }

void patch(const std::string &path, uint64_t offset, const void *bytes, size_t size) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes, size, offset), ssize_t(size));
  ::close(fd);
}

Status open_error(const std::string &path) {
  std::unique_ptr<ImageReader> r;
  return ImageReader::open(path, &r);
}

TEST(ImageTest, RoundTripsHeaderMetaAndSections) {
  TempDir tmp;
  const std::string path = tmp / "rank-00003.ackpt";
  // A 64 MiB heap, globals from many small pieces and one large one, and an empty section.
  std::vector<uint64_t> heap((64 << 20) / sizeof(uint64_t));
  for (size_t i = 0; i < heap.size(); ++i) heap[i] = i * 0x9e3779b97f4a7c15ull;
  std::vector<std::string> small;
  for (int i = 0; i < 1000; ++i) small.push_back(std::string(1 + i % 13, char('a' + i % 26)));
  const std::string large(300 << 10, 'L');
  std::vector<Piece> pieces;
  std::string globals;
  for (const std::string &s : small) {
    pieces.push_back({s.data(), s.size()});
    globals += s;
  }
  pieces.push_back({large.data(), large.size()});
  globals += large;

  std::unique_ptr<ImageWriter> w;
  ASSERT_TRUE(ImageWriter::create(path, sample_identity(), &w).is_ok());
  ASSERT_TRUE(w->add_section(SectionKind::Meta, encode_meta(sample_meta())).is_ok());
  ASSERT_TRUE(w->add_section(SectionKind::Globals, pieces).is_ok());
  ASSERT_TRUE(w->add_section(SectionKind::Heap, {{heap.data(), heap.size() * 8}}).is_ok());
  ASSERT_TRUE(w->add_section(SectionKind::Frames, std::vector<Piece>{}).is_ok());
  EXPECT_FALSE(std::filesystem::exists(path)) << "nothing at the final path before commit";
  Status committed = w->commit();
  ASSERT_TRUE(committed.is_ok()) << committed.message();
  EXPECT_EQ(w->bytes_written(), file_size(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  std::unique_ptr<ImageReader> r;
  Status opened = ImageReader::open(path, &r);
  ASSERT_TRUE(opened.is_ok()) << opened.message();
  EXPECT_EQ(r->header().format_version, kFullFormatVersion);  // a full image: older builds read it
  EXPECT_EQ(r->header().rank, 3u);
  EXPECT_EQ(r->header().generation, 7u);
  EXPECT_EQ(r->header().created_unix_ns, 1700000000123456789u);
  EXPECT_EQ(r->build_id_hex(), "0123456789abcdef00ff");
  ASSERT_EQ(r->sections().size(), 4u);
  for (const SectionEntry &e : r->sections()) EXPECT_EQ(e.offset % kSectionAlignment, 0u);
  EXPECT_TRUE(r->has(SectionKind::Frames));
  EXPECT_FALSE(r->has(SectionKind::Cuda));
  EXPECT_EQ(r->raw_size(SectionKind::Heap), 64u << 20);
  EXPECT_EQ(r->raw_size(SectionKind::Frames), 0u);

  std::vector<uint64_t> heap_back(heap.size());
  ASSERT_TRUE(r->read_section(SectionKind::Heap, heap_back.data(), 64 << 20).is_ok());
  EXPECT_TRUE(heap_back == heap);
  std::string globals_back, frames_back;
  ASSERT_TRUE(r->read_section(SectionKind::Globals, &globals_back).is_ok());
  EXPECT_EQ(globals_back, globals);
  ASSERT_TRUE(r->read_section(SectionKind::Frames, &frames_back).is_ok());
  EXPECT_TRUE(frames_back.empty());
  ImageMeta meta;
  ASSERT_TRUE(r->read_meta(&meta).is_ok());
  expect_same_meta(meta, sample_meta());
  Status verified = r->verify();
  EXPECT_TRUE(verified.is_ok()) << verified.message();
}

TEST(ImageTest, MetaRoundTripsEveryField) {
  ImageMeta back;
  Status s = decode_meta(encode_meta(sample_meta()), &back);
  ASSERT_TRUE(s.is_ok()) << s.message();
  expect_same_meta(back, sample_meta());
}

// Images written before frames described their slots (FrameRecord version 0) still read: the
// bytes below are encode_meta() of that build, for a meta with one frame and one file.
TEST(ImageTest, MetaWithoutSlotsStillReads) {
  const std::string old(
      "\x16\x00\x00\x00\x00\x00\x00\x00\x73\x65\x72\x69\x61\x6c\x69\x7a\x61\x74\x69\x6f\x6e\x3a"
      "\x3a\x61\x72\x63\x68\x69\x76\x65\x12\x00\x04\x08\x04\x08\x01\x00\x00\x00\x00\x01\x00\x00"
      "\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x00\x00\x00\x00\x2f\x68\x6f\x6d\x65\x2f\x75\x73\x65"
      "\x72\x2f\x73\x69\x6d\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\xef\xcd\xab\x00\x00\x00\x00\x00\x04"
      "\x00\x00\x00\x00\x00\x00\x00\x73\x74\x65\x70\x05\x00\x00\x00\x00\x00\x00\x00\x73\x69\x6d"
      "\x2e\x63\x28\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x03\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x2f\x74\x6d\x70\x2f\x6f\x75\x74\x2e\x74"
      "\x78\x74\x01\x00\x00\x00\xd2\x04\x00\x00\x00\x00\x00\x00\x2e\x16\x00\x00\x00\x00\x00\x00"
      "\x01\x00\x00\x00",
      378);
  ImageMeta back;
  Status s = decode_meta(old, &back);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(back.exe_path, "/home/user/sim");
  ASSERT_EQ(back.frames.size(), 1u);
  EXPECT_EQ(back.frames[0].function, "step");
  EXPECT_EQ(back.frames[0].line, 40u);
  EXPECT_EQ(back.frames[0].size, 64u);
  EXPECT_TRUE(back.frames[0].slots.empty());
  ASSERT_EQ(back.files.size(), 1u);
  EXPECT_EQ(back.files[0].path, "/tmp/out.txt");
}

TEST(ImageTest, GarbageMetaIsAnError) {
  ImageMeta back;
  Status s = decode_meta("certainly not a boost archive", &back);
  EXPECT_THAT(s.message(), HasSubstr("the image's metadata cannot be read ("));
  EXPECT_THAT(decode_meta(encode_meta(sample_meta()).substr(0, 60), &back).message(),
              HasSubstr("metadata cannot be read"));
}

TEST(ImageTest, FlippedByteIsCaughtByTheSectionChecksum) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  std::string heap = write_small_image(path);
  uint64_t heap_offset = 0;
  {
    std::unique_ptr<ImageReader> r;
    ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
    for (const SectionEntry &e : r->sections()) {
      if (e.kind == uint32_t(SectionKind::Heap)) heap_offset = e.offset;
    }
  }
  ASSERT_NE(heap_offset, 0u);
  char flipped = char(heap[5000] ^ 0x10);
  patch(path, heap_offset + 5000, &flipped, 1);

  std::unique_ptr<ImageReader> r;
  ASSERT_TRUE(ImageReader::open(path, &r).is_ok()) << "header and table are intact";
  std::string back;
  EXPECT_EQ(r->read_section(SectionKind::Heap, &back).message(),
            "section Heap of " + path + " is corrupt (checksum mismatch)");
  EXPECT_THAT(r->verify().message(), HasSubstr("corrupt (checksum mismatch)"));
  ImageMeta meta;
  EXPECT_TRUE(r->read_meta(&meta).is_ok()) << "the other sections still read";
}

TEST(ImageTest, TruncatedFileSaysSo) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  write_small_image(path);
  const uint64_t size = file_size(path);
  ASSERT_EQ(::truncate(path.c_str(), size / 2), 0);
  EXPECT_EQ(open_error(path).message(), path + " is truncated: expected " + std::to_string(size) +
                                            " bytes, found " + std::to_string(size / 2));
  ASSERT_EQ(::truncate(path.c_str(), 100), 0);
  EXPECT_THAT(open_error(path).message(), HasSubstr("truncated"));
}

TEST(ImageTest, ForeignFilesAreNotImages) {
  TempDir tmp;
  const std::string text = tmp / "notes.txt";
  std::ofstream(text) << "this is a text file, long enough to have a header's worth of bytes";
  EXPECT_EQ(open_error(text).message(), text + " is not an autockpt image (bad magic)");
  const std::string empty = tmp / "empty";
  std::ofstream(empty).flush();
  EXPECT_THAT(open_error(empty).message(), HasSubstr("is not an autockpt image"));
  EXPECT_EQ(open_error(tmp / "missing").message(), tmp / "missing" + " does not exist");
  EXPECT_THAT(open_error(tmp.path()).message(), HasSubstr("not a regular file"));
}

TEST(ImageTest, OtherFormatVersionsAreRefusedByNumber) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  write_small_image(path);
  const uint32_t newer = kFormatVersion + 1;
  patch(path, offsetof(FileHeader, format_version), &newer, sizeof newer);
  Status s = open_error(path);
  EXPECT_THAT(s.message(), HasSubstr("format version " + std::to_string(newer) +
                                     ", but this autockpt reads only versions " +
                                     std::to_string(kOldestFormatVersion) + " to " +
                                     std::to_string(kFormatVersion)));
  EXPECT_THAT(s.message(), HasSubstr("newer autockpt"));
  const uint32_t older = 0;
  patch(path, offsetof(FileHeader, format_version), &older, sizeof older);
  EXPECT_THAT(open_error(path).message(), HasSubstr("older autockpt"));
}

// The HeapExtents section (design R22): what encode writes decode reads, and an extent that is
// unaligned, out of order, beyond the heap, or a total that is not the Heap section's length is
// refused by name.
TEST(ImageTest, HeapExtentsAreCheckedWhenDecoded) {
  const HeapExtent good[] = {{0, 4096}, {8192, 12288}, {65536, 100}};
  const std::string bytes = encode_heap_extents(good, 3);
  std::vector<HeapExtent> out;
  std::string error;
  ASSERT_TRUE(decode_heap_extents(bytes, 65636, 4096 + 12288 + 100, &out, &error)) << error;
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].offset, 8192u);
  EXPECT_EQ(out[2].length, 100u);
  EXPECT_FALSE(decode_heap_extents(bytes, 65636, 4096, &out, &error));
  EXPECT_THAT(error, HasSubstr("add up to"));
  EXPECT_FALSE(decode_heap_extents(bytes, 65600, 4096 + 12288 + 100, &out, &error));
  EXPECT_THAT(error, HasSubstr("heap extent 2 lies beyond 65600 bytes"));
  EXPECT_FALSE(decode_heap_extents(bytes.substr(1), 65636, 0, &out, &error));
  EXPECT_THAT(error, HasSubstr("not a multiple"));
  const HeapExtent unordered[] = {{8192, 4096}, {4096, 4096}};
  EXPECT_FALSE(decode_heap_extents(encode_heap_extents(unordered, 2), 65536, 8192, &out, &error));
  EXPECT_THAT(error, HasSubstr("heap extent 1 overlaps"));
  const HeapExtent unaligned[] = {{100, 4096}};
  EXPECT_FALSE(decode_heap_extents(encode_heap_extents(unaligned, 1), 65536, 4096, &out, &error));
  EXPECT_THAT(error, HasSubstr("page boundary"));
}

TEST(ImageTest, DamagedHeaderFailsItsChecksum) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  write_small_image(path);
  const uint64_t generation = 8;
  patch(path, offsetof(FileHeader, generation), &generation, sizeof generation);
  EXPECT_THAT(open_error(path).message(), HasSubstr("corrupt (header checksum mismatch)"));
}

// A string length or collection count larger than the archive is refused before anything is
// allocated (Boost would resize to it first): no gigabytes for a damaged length.
TEST(ImageTest, MetaLengthsBeyondTheArchiveAreRefused) {
  ImageMeta meta;
  meta.exe_path = "EXE-PATH-MARKER";
  std::string bytes = encode_meta(meta);
  const size_t at = bytes.find("EXE-PATH-MARKER");
  ASSERT_NE(at, std::string::npos);
  const uint64_t huge = uint64_t(1) << 40;
  bytes.replace(at - sizeof huge, sizeof huge, reinterpret_cast<const char *>(&huge), sizeof huge);
  ImageMeta back;
  EXPECT_THAT(decode_meta(bytes, &back).message(),
              HasSubstr("cannot be read (input stream error)"));

  // An empty `files` ends the archive with its count (8 bytes) and item version (4 bytes).
  meta = ImageMeta();
  bytes = encode_meta(meta);
  const size_t count_at = bytes.size() - 12;
  uint64_t count = 1;
  std::memcpy(&count, bytes.data() + count_at, sizeof count);
  ASSERT_EQ(count, 0u) << "the layout this test assumes";
  bytes.replace(count_at, sizeof huge, reinterpret_cast<const char *>(&huge), sizeof huge);
  EXPECT_THAT(decode_meta(bytes, &back).message(),
              HasSubstr("cannot be read (input stream error)"));
}

// Vectors of integers take Boost's array form in binary_oarchive: the bounded reader must read
// the same form (it once read an item version that was never written: "input stream error").
TEST(ImageTest, VectorsOfIntegersRoundTrip) {
  const std::vector<uint64_t> tids = {7, 0, uint64_t(1) << 63, 42};
  std::vector<uint64_t> back;
  ASSERT_TRUE(from_archive(to_archive(tids), &back, "the test's vector").is_ok());
  EXPECT_EQ(back, tids);

  const std::vector<uint8_t> empty;
  std::vector<uint8_t> back_empty = {1};
  ASSERT_TRUE(from_archive(to_archive(empty), &back_empty, "the test's vector").is_ok());
  EXPECT_TRUE(back_empty.empty());

  // A count beyond the archive's end is refused before anything is allocated.
  std::string bytes = to_archive(tids);
  const size_t count_at = bytes.size() - sizeof(uint64_t) * tids.size() - sizeof(uint64_t);
  uint64_t count = 0;
  std::memcpy(&count, bytes.data() + count_at, sizeof count);
  ASSERT_EQ(count, tids.size()) << "the layout this test assumes";
  const uint64_t huge = uint64_t(1) << 40;
  bytes.replace(count_at, sizeof huge, reinterpret_cast<const char *>(&huge), sizeof huge);
  EXPECT_THAT(from_archive(bytes, &back, "the test's vector").message(),
              HasSubstr("cannot be read (input stream error)"));
}

// Rewrites the last section table entry (the Heap's) of an image with `change` and makes the
// table and header checksums hold again, as a forged image would.
template <class F>
void patch_last_section(const std::string &path, F change) {
  FileHeader h;
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_EQ(::pread(fd, &h, sizeof h, 0), ssize_t(sizeof h));
  std::vector<SectionEntry> table(h.section_count);
  const ssize_t table_bytes = sizeof(SectionEntry) * table.size();
  ASSERT_EQ(::pread(fd, table.data(), table_bytes, h.section_table_offset), table_bytes);
  ::close(fd);
  change(&table.back());
  h.section_table_checksum = compute_table_checksum(table.data(), h.section_count);
  h.header_checksum = compute_header_checksum(h);
  patch(path, h.section_table_offset, table.data(), table_bytes);
  patch(path, 0, &h, sizeof h);
}

// A reader sizes its buffer by a section's raw length and fills it with the stored bytes: the
// two must agree, a compressed section may not claim more than zstd can expand its bytes to,
// and a section stored in a way it cannot read is refused at open, before any buffer is sized
// (the fuzzer found read_section resizing a string to 2^53 first).
TEST(ImageTest, RawLengthMustMatchStoredLength) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  write_small_image(path);
  patch_last_section(path, [](SectionEntry *e) { e->raw_length = 16; });
  EXPECT_EQ(open_error(path).message(),
            path + " is corrupt (section Heap stores 1048576 bytes but claims 16)");
  patch_last_section(path, [](SectionEntry *e) {
    e->flags = kSectionZstd;
    e->raw_length = uint64_t(1) << 53;
  });
  EXPECT_EQ(open_error(path).message(),
            path + " is corrupt (section Heap stores 1048576 compressed bytes but claims " +
                std::to_string(uint64_t(1) << 53) + ")");
  patch_last_section(path, [](SectionEntry *e) { e->flags = 2; });
  EXPECT_EQ(open_error(path).message(),
            "section Heap of " + path + " is stored in a way this autockpt cannot read (flags 2)");
}

// AUTOCKPT_COMPRESS=zstd (R23): a large section is stored as one zstd frame, flagged, and reads
// back whole, into one buffer or scattered over several; a small one stays as it is; a damaged
// frame whose checksum was made to hold again is still refused.
TEST(ImageTest, CompressedSectionsReadBack) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  std::string heap(3 << 20, '\0');
  for (size_t i = 0; i < heap.size(); ++i) heap[i] = char((i / 4096) * 13 + (i % 7 == 0));
  std::string meta = encode_meta(sample_meta());
  {
    std::unique_ptr<ImageWriter> w;
    ASSERT_TRUE(ImageWriter::create(path, sample_identity(), &w).is_ok());
    w->set_compression(1, 2);
    ASSERT_TRUE(w->add_section(SectionKind::Meta, meta).is_ok());
    ASSERT_TRUE(w->add_section(SectionKind::Heap, {{heap.data(), 1 << 20}, {heap.data() + (1 << 20), 2 << 20}}).is_ok());
    ASSERT_TRUE(w->commit().is_ok());
  }
  EXPECT_LT(file_size(path), heap.size() / 4);
  std::unique_ptr<ImageReader> r;
  ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
  for (const SectionEntry &e : r->sections()) {
    const bool big = e.kind == uint32_t(SectionKind::Heap);
    EXPECT_EQ(e.flags, big ? kSectionZstd : 0u);
    EXPECT_EQ(e.raw_length, big ? heap.size() : meta.size());
  }
  EXPECT_TRUE(r->verify().is_ok());
  std::string whole;
  ASSERT_TRUE(r->read_section(SectionKind::Heap, &whole).is_ok());
  EXPECT_TRUE(whole == heap);
  std::string a(5000, 'x'), b(heap.size() - 5000, 'x');
  ASSERT_TRUE(r->read_section(SectionKind::Heap, {{a.data(), a.size()}, {nullptr, 0},
                                                  {b.data(), b.size()}}).is_ok());
  EXPECT_TRUE(a + b == heap);
  // Flip a byte in the middle of the frame and make its checksum hold: zstd's output is wrong
  // or it fails, and either way the section is refused.
  const SectionEntry heap_entry = r->sections().back();
  r.reset();
  char byte = 0x5a;
  patch(path, heap_entry.offset + heap_entry.stored_length / 2, &byte, 1);
  patch_last_section(path, [&](SectionEntry *e) {
    std::string stored(e->stored_length, '\0');
    int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_EQ(::pread(fd, stored.data(), stored.size(), e->offset), ssize_t(stored.size()));
    ::close(fd);
    e->checksum = XXH3_64bits(stored.data(), stored.size());
  });
  ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
  Status s = r->read_section(SectionKind::Heap, &whole);
  if (s.is_ok()) {
    EXPECT_FALSE(whole == heap) << "a damaged frame decompressed to the original";
  } else {
    EXPECT_THAT(s.message(), HasSubstr("is corrupt"));
  }
}

TEST(ImageTest, ReadSectionWantsTheExactSize) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  write_small_image(path);
  std::unique_ptr<ImageReader> r;
  ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
  std::vector<char> small(100);
  EXPECT_THAT(r->read_section(SectionKind::Heap, small.data(), small.size()).message(),
              HasSubstr("holds 1048576 bytes, not the 100 expected"));
  std::string none;
  EXPECT_EQ(r->read_section(SectionKind::Mpi, &none).message(), path + " has no Mpi section");
}

TEST(ImageTest, UncommittedWriterLeavesNothing) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  {
    std::unique_ptr<ImageWriter> w;
    ASSERT_TRUE(ImageWriter::create(path, sample_identity(), &w).is_ok());
    ASSERT_TRUE(w->add_section(SectionKind::Meta, encode_meta(sample_meta())).is_ok());
    EXPECT_TRUE(std::filesystem::exists(path + ".tmp"));
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ImageTest, WriterRefusesMisuse) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  std::unique_ptr<ImageWriter> w;
  ASSERT_TRUE(ImageWriter::create(path, sample_identity(), &w).is_ok());
  ASSERT_TRUE(w->add_section(SectionKind::Heap, std::string(10, 'x')).is_ok());
  EXPECT_THAT(w->add_section(SectionKind::Heap, std::string(10, 'y')).message(),
              HasSubstr("already has a Heap section"));
  EXPECT_THAT(w->commit().message(), HasSubstr("has no Meta section"));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(path));

  Identity long_id = sample_identity();
  long_id.build_id_bytes.assign(65, 'b');
  EXPECT_THAT(ImageWriter::create(path, long_id, &w).message(), HasSubstr("at most 64"));
  EXPECT_THAT(
      ImageWriter::create(tmp / "no/such/dir/img", sample_identity(), &w).message(),
      HasSubstr("cannot create " + tmp / "no/such/dir/img.tmp" + " (No such file or directory)"));
}

// Page-aligned memory, as the arena is.
class PageMemory {
 public:
  explicit PageMemory(size_t size) : size_(size) {
    void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<char *>(p);
  }
  ~PageMemory() {
    if (data_) ::munmap(data_, size_);
  }
  char *data() const { return data_; }

 private:
  size_t size_;
  char *data_;
};

// Drops [offset, offset + length) of `path` from the page cache (length 0: to the end).
void evict(const std::string &path, uint64_t offset = 0, uint64_t length = 0) {
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::fdatasync(fd);
  EXPECT_EQ(::posix_fadvise(fd, off_t(offset), off_t(length), POSIX_FADV_DONTNEED), 0);
  ::close(fd);
}

// Writes an image whose Heap section is `size` bytes of a pattern; returns them and, through
// `heap_offset`, where the section starts.
std::string write_large_image(const std::string &path, uint64_t size, uint64_t *heap_offset) {
  std::string heap(size, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i + 8 <= heap.size(); i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(&heap[i], &x, 8);
  }
  heap.back() = 'E';
  std::unique_ptr<ImageWriter> w;
  EXPECT_TRUE(ImageWriter::create(path, sample_identity(), &w).is_ok());
  EXPECT_TRUE(w->add_section(SectionKind::Meta, encode_meta(sample_meta())).is_ok());
  EXPECT_TRUE(w->add_section(SectionKind::Heap, heap).is_ok());
  EXPECT_TRUE(w->commit().is_ok());
  std::unique_ptr<ImageReader> r;
  EXPECT_TRUE(ImageReader::open(path, &r).is_ok());
  for (const SectionEntry &e : r->sections()) {
    if (e.kind == uint32_t(SectionKind::Heap)) *heap_offset = e.offset;
  }
  return heap;
}

// A 40 MiB (and a bit) image, over the size from which a section is read by several threads
// with O_DIRECT, and page-aligned memory to read its Heap section into.
class LargeSection : public ::testing::Test {
 protected:
  void SetUp() override {
    heap = write_large_image(path, size, &heap_offset);
    ASSERT_NE(into.data(), nullptr);
  }

  TempDir tmp;
  const std::string path = tmp / "big.ackpt";
  const uint64_t size = (40 << 20) + 1234;
  uint64_t heap_offset = 0;
  std::string heap;
  PageMemory into{size};
};

// A large section read into page-aligned memory goes through several threads and O_DIRECT where
// the page cache does not hold it (design R15).  Its bytes must arrive exactly, the unaligned end
// included, whether the file is cold, partly cached or all cached.
TEST_F(LargeSection, ReadsExactlyColdOrCached) {
  std::unique_ptr<ImageReader> r;
  ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
  const char *cases[] = {"cold", "partly cached", "cached"};
  for (const char *state : cases) {
    SCOPED_TRACE(state);
    evict(path);
    if (std::strcmp(state, "cold") != 0) {  // warm 10 MiB in the middle, or everything
      const bool all = std::strcmp(state, "cached") == 0;
      std::string warm(all ? file_size(path) : 10 << 20, '\0');
      int fd = ::open(path.c_str(), O_RDONLY);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::pread(fd, warm.data(), warm.size(), all ? 0 : heap_offset + (13 << 20)),
                ssize_t(warm.size()));
      ::close(fd);
    }
    std::memset(into.data(), 0, size);
    Status s = r->read_section(SectionKind::Heap, into.data(), size);
    ASSERT_TRUE(s.is_ok()) << s.message();
    EXPECT_EQ(std::memcmp(into.data(), heap.data(), size), 0);
  }
}

// A flipped byte in a large section is caught before read_section returns, wherever it lies: in
// the first piece, in the middle, in the unaligned end read through the page cache.
TEST_F(LargeSection, CatchesAFlippedByteAnywhere) {
  for (uint64_t at : {uint64_t(5), uint64_t(21 << 20) + 77, size - 1}) {
    SCOPED_TRACE(at);
    char flipped = char(heap[at] ^ 0x10);
    patch(path, heap_offset + at, &flipped, 1);
    evict(path);
    std::unique_ptr<ImageReader> r;
    ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
    EXPECT_EQ(r->read_section(SectionKind::Heap, into.data(), size).message(),
              "section Heap of " + path + " is corrupt (checksum mismatch)");
    patch(path, heap_offset + at, &heap[at], 1);
  }
  std::unique_ptr<ImageReader> r;
  ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
  EXPECT_TRUE(r->read_section(SectionKind::Heap, into.data(), size).is_ok()) << "repaired";
}

// A large section that shrinks while it is read is an error, not a short heap.
TEST_F(LargeSection, CutShortWhileReadingSaysSo) {
  std::unique_ptr<ImageReader> r;
  ASSERT_TRUE(ImageReader::open(path, &r).is_ok());
  ASSERT_EQ(::truncate(path.c_str(), off_t(heap_offset + (20 << 20))), 0);
  EXPECT_EQ(r->read_section(SectionKind::Heap, into.data(), size).message(),
            path + " ended early (did it shrink while being read?)");
}

}  // namespace
}  // namespace autockpt::image
