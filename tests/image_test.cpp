// Tests of one image file: what ImageWriter writes ImageReader reads back, and every kind of
// damage (flipped byte, truncation, foreign file, other format version) is refused by name.
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  m.frames = {{11, 2, 0xabcdef, "step", "sim.c", 40, 0, 64},
              {12, 5, 0x123456, "main", "sim.c", 90, 64, 32}};
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
  EXPECT_EQ(r->header().format_version, kFormatVersion);
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
  EXPECT_THAT(s.message(), HasSubstr("format version 2, but this autockpt reads only version 1"));
  EXPECT_THAT(s.message(), HasSubstr("newer autockpt"));
  const uint32_t older = 0;
  patch(path, offsetof(FileHeader, format_version), &older, sizeof older);
  EXPECT_THAT(open_error(path).message(), HasSubstr("older autockpt"));
}

TEST(ImageTest, DamagedHeaderFailsItsChecksum) {
  TempDir tmp;
  const std::string path = tmp / "img.ackpt";
  write_small_image(path);
  const uint64_t generation = 8;
  patch(path, offsetof(FileHeader, generation), &generation, sizeof generation);
  EXPECT_THAT(open_error(path).message(), HasSubstr("corrupt (header checksum mismatch)"));
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

}  // namespace
}  // namespace autockpt::image
