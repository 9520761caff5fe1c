// Tests of the generation store: preparing AUTOCKPT_DIR, committing and listing generations,
// pruning, verification, a full disk, and kills in the middle of a write.
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/reader.h"
#include "image/store.h"
#include "image/writer.h"
#include "temp_dir.h"

namespace autockpt::image {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Writes the image of `rank` in generation `gen` (a Meta section and `heap_bytes` of heap),
// incremental on generation `base` when it is not 0 (R24).
Status write_image(const GenerationStore &store, uint64_t gen, uint32_t rank, uint64_t heap_bytes,
                   uint64_t base = 0) {
  Identity id{"\x12\x34", rank, gen, 1};
  ImageMeta meta;
  meta.generation = gen;
  meta.rank = rank;
  std::string heap(heap_bytes, char('A' + gen % 26));
  std::unique_ptr<ImageWriter> w;
  Status s = ImageWriter::create(store.image_path(gen, rank), id, &w);
  if (s && base) {
    std::unique_ptr<ImageReader> b;
    s = ImageReader::open(store.image_path(base, rank), &b);
    if (s) w->set_base({base, b->header().header_checksum, b->header().chain_length + 1});
  }
  if (s) s = w->add_section(SectionKind::Meta, encode_meta(meta));
  if (s) s = w->add_section(SectionKind::Heap, heap);
  if (s) s = w->commit();
  return s;
}

// Writes and commits generation `gen` with `nranks` images.
void write_generation(GenerationStore &store, uint64_t gen, uint32_t nranks = 1,
                      uint64_t heap_bytes = 10000, uint64_t base = 0) {
  std::string gen_dir;
  ASSERT_TRUE(store.begin(gen, &gen_dir).is_ok());
  EXPECT_EQ(gen_dir, store.gen_path(gen));
  for (uint32_t rank = 0; rank < nranks; ++rank) {
    Status s = write_image(store, gen, rank, heap_bytes, base);
    ASSERT_TRUE(s.is_ok()) << s.message();
  }
  Status s = store.commit(gen, nranks);
  ASSERT_TRUE(s.is_ok()) << s.message();
}

std::vector<uint64_t> numbers(const std::vector<GenerationInfo> &gens, bool committed) {
  std::vector<uint64_t> out;
  for (const GenerationInfo &g : gens) {
    if (g.committed == committed) out.push_back(g.number);
  }
  return out;
}

// Mounts a tmpfs at `dir` for the life of the object; ok() says whether the mount worked.
class TmpfsMount {
 public:
  TmpfsMount(const std::string &dir, const char *options, unsigned long flags = 0) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", flags, options) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  const std::string &error() const { return error_; }

 private:
  std::string dir_, error_;
  bool mounted_ = false;
};

TEST(StoreTest, PrepareCreatesNestedDirectories) {
  TempDir tmp;
  GenerationStore store(tmp / "a/b/c");
  Status s = store.prepare();
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_TRUE(fs::is_directory(tmp / "a/b/c"));
  EXPECT_TRUE(fs::is_empty(tmp / "a/b/c")) << "the probe file is gone";
  EXPECT_TRUE(store.prepare().is_ok()) << "an existing directory is fine";
}

TEST(StoreTest, PrepareRefusesAFile) {
  TempDir tmp;
  std::ofstream(tmp / "file") << "x";
  EXPECT_EQ(GenerationStore(tmp / "file").prepare().message(),
            "AUTOCKPT_DIR=" + tmp / "file" + " is not a directory");
  EXPECT_THAT(
      GenerationStore(tmp / "file/sub").prepare().message(),
      HasSubstr("AUTOCKPT_DIR=" + tmp / "file/sub" + ": cannot create it (Not a directory)"));
}

TEST(StoreTest, PrepareRefusesWhatCannotBeCreatedOrWritten) {
  // Tests run as root, whom permissions do not stop: use places no one can write.
  EXPECT_THAT(GenerationStore("/proc/autockpt-test").prepare().message(),
              HasSubstr("AUTOCKPT_DIR=/proc/autockpt-test: cannot create it ("));
  EXPECT_THAT(GenerationStore("/proc").prepare().message(),
              HasSubstr("AUTOCKPT_DIR=/proc is not writable ("));

  TempDir tmp;
  TmpfsMount ro(tmp / "ro", "size=1m", MS_RDONLY);
  if (!ro.ok()) GTEST_SKIP() << "cannot mount a read-only tmpfs: " << ro.error();
  EXPECT_EQ(GenerationStore(tmp / "ro").prepare().message(),
            "AUTOCKPT_DIR=" + tmp / "ro" +
                " is not writable (Read-only file system): choose another directory for the "
                "checkpoints");
}

mode_t mode_of(const std::string &path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// A checkpoint holds the program's whole memory: only its owner may read it.
TEST(StoreTest, CheckpointsArePrivate) {
  TempDir tmp;
  GenerationStore store(tmp / "a/ckpt");
  ASSERT_TRUE(store.prepare().is_ok());
  EXPECT_EQ(mode_of(tmp / "a/ckpt"), 0700u);
  write_generation(store, 1);
  EXPECT_EQ(mode_of(store.gen_path(1)), 0700u);
  EXPECT_EQ(mode_of(store.image_path(1, 0)), 0600u);
  EXPECT_EQ(mode_of(store.gen_path(1) + "/MANIFEST"), 0600u);
  EXPECT_TRUE(store.check_trusted(store.list().at(0)).is_ok());
}

// A restart refuses what another user can have written: the checkpoint directory writable by
// others, a generation's directory or one of its files writable by others or its group, or a
// symbolic link in it.  The checkpoint directory may be writable by its group (umask 002).
TEST(StoreTest, CheckTrustedRefusesWhatOthersCanWrite) {
  TempDir tmp;
  GenerationStore store(tmp / "ckpt");
  ASSERT_TRUE(store.prepare().is_ok());
  write_generation(store, 1);
  const GenerationInfo gen = store.list().at(0);
  for (const std::string &path : {store.dir(), gen.path, gen.path + "/MANIFEST",
                                  store.image_path(1, 0)}) {
    const mode_t before = mode_of(path);
    ASSERT_EQ(::chmod(path.c_str(), before | S_IWOTH), 0);
    Status s = store.check_trusted(gen);
    EXPECT_THAT(s.message(), HasSubstr(path + " is writable by others (mode 0"));
    EXPECT_THAT(s.message(), HasSubstr("chmod -R go-w " + store.dir()));
    ASSERT_EQ(::chmod(path.c_str(), before | S_IWGRP), 0);
    if (path == store.dir())
      EXPECT_TRUE(store.check_trusted(gen).is_ok());
    else
      EXPECT_THAT(store.check_trusted(gen).message(), HasSubstr(path + " is writable by its group"));
    ASSERT_EQ(::chmod(path.c_str(), before), 0);
    EXPECT_TRUE(store.check_trusted(gen).is_ok()) << path;
  }
  const std::string image = store.image_path(1, 0);
  fs::rename(image, image + ".real");
  fs::create_symlink(image + ".real", image);
  EXPECT_THAT(store.check_trusted(gen).message(), HasSubstr(image + " is not a regular file"));
}

// Root owns everything here, so another owner is made with chown (which only root may do).
TEST(StoreTest, CheckTrustedRefusesAnotherOwner) {
  TempDir tmp;
  GenerationStore store(tmp / "ckpt");
  ASSERT_TRUE(store.prepare().is_ok());
  write_generation(store, 1);
  const GenerationInfo gen = store.list().at(0);
  const uid_t stranger = ::geteuid() == 54321 ? 54322 : 54321;
  for (const std::string &path : {store.dir(), gen.path, store.image_path(1, 0)}) {
    if (::chown(path.c_str(), stranger, uid_t(-1)) != 0) {
      GTEST_SKIP() << "cannot give a file to another user (" << std::strerror(errno) << ")";
    }
    EXPECT_THAT(store.check_trusted(gen).message(),
                HasSubstr(path + " belongs to user " + std::to_string(stranger) +
                          ", not to this user (" + std::to_string(::geteuid()) + ")"));
    ASSERT_EQ(::chown(path.c_str(), ::geteuid(), uid_t(-1)), 0);
  }
  EXPECT_TRUE(store.check_trusted(gen).is_ok());
}

TEST(StoreTest, PathsFollowTheLayout) {
  GenerationStore store("/ckpt");
  EXPECT_EQ(store.gen_path(7), "/ckpt/gen-000007");
  EXPECT_EQ(store.image_path(7, 3), "/ckpt/gen-000007/rank-00003.ackpt");
  EXPECT_EQ(store.image_path(1234567, 0), "/ckpt/gen-1234567/rank-00000.ackpt");
}

TEST(StoreTest, CommittedGenerationsAreListed) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  ASSERT_TRUE(store.prepare().is_ok());
  EXPECT_TRUE(store.list().empty());
  EXPECT_EQ(store.next_number(), 1u);
  write_generation(store, 1, 2);
  write_generation(store, 2);
  std::ofstream(tmp / "unrelated.txt") << "x";
  fs::create_directories(tmp / "gen-abc");
  fs::create_directories(tmp / "other");

  std::vector<GenerationInfo> gens = store.list();
  ASSERT_EQ(gens.size(), 2u);
  EXPECT_EQ(gens[0].number, 1u);
  EXPECT_TRUE(gens[0].committed);
  EXPECT_EQ(gens[0].path, tmp / "gen-000001");
  EXPECT_EQ(gens[0].files, (std::vector<std::string>{"rank-00000.ackpt", "rank-00001.ackpt"}));
  EXPECT_GT(gens[0].bytes, 20000u);
  EXPECT_GT(gens[0].mtime_unix_ns, 0);
  EXPECT_EQ(gens[1].number, 2u);
  EXPECT_TRUE(gens[1].committed);
  EXPECT_EQ(store.next_number(), 3u);

  std::ifstream manifest(tmp / "gen-000002/MANIFEST");
  std::string line;
  std::getline(manifest, line);
  EXPECT_EQ(line, "autockpt-manifest 1");
  std::getline(manifest, line);
  EXPECT_EQ(line, "generation 2");
  std::getline(manifest, line);
  EXPECT_EQ(line, "ranks 1");
}

TEST(StoreTest, GenerationsWithoutACompleteManifestAreNotCommitted) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  write_generation(store, 1);
  std::string dir;
  ASSERT_TRUE(store.begin(2, &dir).is_ok());
  ASSERT_TRUE(write_image(store, 2, 0, 1000).is_ok());  // images, no MANIFEST
  ASSERT_TRUE(store.begin(3, &dir).is_ok());
  std::ofstream(dir + "/MANIFEST.tmp") << "autockpt-manifest 1\n";
  ASSERT_TRUE(store.begin(4, &dir).is_ok());
  std::ofstream(dir + "/MANIFEST") << "autockpt-manifest 1\ngeneration 4\nranks 2\n";  // cut short

  std::vector<GenerationInfo> gens = store.list();
  EXPECT_EQ(numbers(gens, true), std::vector<uint64_t>{1});
  EXPECT_EQ(numbers(gens, false), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(store.next_number(), 5u);
  std::string why;
  EXPECT_FALSE(store.verify_generation(gens[1], &why).is_ok());
  EXPECT_THAT(why, HasSubstr("no complete MANIFEST"));

  // Pruning keeps the newest committed generation and the newer uncommitted ones (which may be
  // in the middle of being written).
  store.prune(1);
  EXPECT_EQ(store.list().size(), 4u);
}

TEST(StoreTest, PruneKeepsTheNewestCommittedGenerations) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  std::string dir;
  for (uint64_t gen = 1; gen <= 5; ++gen) {
    if (gen == 3) {
      ASSERT_TRUE(store.begin(gen, &dir).is_ok());  // a failed attempt
    } else {
      write_generation(store, gen);
    }
  }
  ASSERT_TRUE(store.begin(6, &dir).is_ok());  // in progress

  store.prune(2);
  std::vector<GenerationInfo> gens = store.list();
  EXPECT_EQ(numbers(gens, true), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(numbers(gens, false), std::vector<uint64_t>{6});
  store.prune(0);  // taken as 1: the newest committed generation always stays
  EXPECT_EQ(numbers(store.list(), true), std::vector<uint64_t>{5});
  EXPECT_TRUE(fs::exists(tmp / "gen-000006"));
}

// A job's commit (M20): retire takes only the MANIFEST of the newest generation prune would
// remove, and removes the older ones; the images stay for the ranks, and a later prune removes
// the rest.
TEST(StoreTest, RetireUncommitsTheNewestOfThoseToPrune) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  EXPECT_EQ(store.retire(2), 0u);  // nothing committed
  for (uint64_t gen = 1; gen <= 4; ++gen) write_generation(store, gen, 2);
  EXPECT_EQ(store.retire(2), 2u);  // 4 and 3 kept; 2 uncommitted, 1 removed
  EXPECT_EQ(numbers(store.list(), true), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(numbers(store.list(), false), std::vector<uint64_t>{2});
  EXPECT_FALSE(fs::exists(tmp / "gen-000001"));
  EXPECT_TRUE(fs::exists(store.image_path(2, 0)));
  EXPECT_TRUE(fs::exists(store.image_path(2, 1)));
  EXPECT_EQ(store.retire(2), 0u);  // 2 is older than the newest committed: it goes, whole
  EXPECT_FALSE(fs::exists(tmp / "gen-000002"));
  EXPECT_EQ(numbers(store.list(), true), (std::vector<uint64_t>{3, 4}));
}

// Incremental generations (R24): pruning keeps every generation a kept one builds on, however
// old; a chain with a missing, replaced or damaged link is refused, naming the link.
TEST(StoreTest, IncrementalChainsArePrunedTogetherAndChecked) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  write_generation(store, 1, 2);           // full, two ranks
  write_generation(store, 2, 2, 100, 1);   // on 1
  write_generation(store, 3, 2, 100, 2);   // on 2, on 1
  std::unique_ptr<ImageReader> r;
  ASSERT_TRUE(ImageReader::open(store.image_path(3, 1), &r).is_ok());
  EXPECT_EQ(r->header().format_version, kFormatVersion);
  EXPECT_EQ(r->header().base_generation, 2u);
  EXPECT_EQ(r->header().chain_length, 2u);

  std::vector<GenerationInfo> gens = store.list();
  std::vector<uint64_t> chain;
  std::string why;
  Status s = store.verify_chain(gens[2], gens, &chain, &why);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(chain, (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(store.bases_of(gens[2]), (std::vector<uint64_t>{2, 1}));
  ASSERT_TRUE(store.verify_chain(gens[0], gens, &chain, &why).is_ok());
  EXPECT_EQ(chain, std::vector<uint64_t>{1});

  // The damaged list of a restart that fell back (AUTOCKPT__SKIP_GENERATIONS).
  EXPECT_FALSE(store.verify_chain(gens[2], gens, &chain, &why, GenerationStore::Depth::Structure,
                                  {1}).is_ok());
  EXPECT_EQ(why, "it needs generation 1 (the base of generation 2), which proved damaged when a "
                 "restart read it");

  store.prune(2);  // 3 and 2, and 1 under them
  EXPECT_EQ(numbers(store.list(), true), (std::vector<uint64_t>{1, 2, 3}));
  write_generation(store, 4, 2);           // full
  store.prune(2);  // 4 and 3, and 2 and 1 under 3
  EXPECT_EQ(numbers(store.list(), true), (std::vector<uint64_t>{1, 2, 3, 4}));
  write_generation(store, 5, 2, 100, 4);
  store.prune(2);  // 5 and 4
  EXPECT_EQ(numbers(store.list(), true), (std::vector<uint64_t>{4, 5}));

  // A base replaced by another image of the same number, then one gone.
  write_generation(store, 6, 2, 100, 5);
  ASSERT_TRUE(store.remove(5).is_ok());
  write_generation(store, 5, 2, 300);
  gens = store.list();
  EXPECT_FALSE(store.verify_chain(gens.back(), gens, &chain, &why).is_ok());
  EXPECT_EQ(why, "it is incremental on generation 5, which holds another rank-00000.ackpt than "
                 "the one it was written on (its header checksum differs)");
  ASSERT_TRUE(store.remove(5).is_ok());
  gens = store.list();
  s = store.verify_chain(gens.back(), gens, &chain, &why);
  EXPECT_EQ(why, "it is incremental on generation 5, which is missing");
  EXPECT_THAT(s.message(), HasSubstr("generation 6 in " + tmp.path() + " is not valid"));
}

// What bases_of() read is kept (a prune in a job's stop reads no header twice), but an image
// replaced at the same path is read again: a stale base would let a prune remove what a kept
// generation needs, or keep what none does.
TEST(StoreTest, BasesOfReadsAReplacedImageAgain) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  write_generation(store, 1, 1);
  write_generation(store, 2, 1, 100, 1);
  EXPECT_EQ(store.bases_of(store.list()[1]), std::vector<uint64_t>{1});
  EXPECT_EQ(store.bases_of(store.list()[1]), std::vector<uint64_t>{1});  // from what was kept
  ASSERT_TRUE(store.remove(2).is_ok());
  write_generation(store, 2, 1, 100);  // full this time, the same size
  EXPECT_EQ(store.bases_of(store.list()[1]), std::vector<uint64_t>{});
  store.prune(1);
  EXPECT_EQ(numbers(store.list(), true), std::vector<uint64_t>{2});
  write_generation(store, 3, 1, 100, 2);
  ASSERT_TRUE(store.remove(3).is_ok());
  write_generation(store, 3, 1, 100, 2);
  store.prune(1);  // 3 on 2
  EXPECT_EQ(numbers(store.list(), true), (std::vector<uint64_t>{2, 3}));
}

TEST(StoreTest, VerifyGenerationChecksFilesAgainstTheManifest) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  write_generation(store, 1, 2);
  std::string why;
  Status s = store.verify_generation(store.list()[0], &why);
  EXPECT_TRUE(s.is_ok()) << s.message();

  // A flipped byte in the heap of rank 1.
  const std::string image = store.image_path(1, 1);
  {
    std::fstream f(image, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * kSectionAlignment + 100);
    f.put('!');
  }
  s = store.verify_generation(store.list()[0], &why);
  EXPECT_THAT(s.message(), HasSubstr("generation 1 in " + tmp.path() + " is not valid: "));
  EXPECT_EQ(why, "section Heap of " + image + " is corrupt (checksum mismatch)");

  // Another file in its place.
  ASSERT_TRUE(write_image(store, 1, 1, 20000).is_ok());
  EXPECT_FALSE(store.verify_generation(store.list()[0], &why).is_ok());
  EXPECT_THAT(why, HasSubstr("rank-00001.ackpt has"));
  EXPECT_THAT(why, HasSubstr("bytes, its MANIFEST says"));

  fs::remove(image);
  EXPECT_FALSE(store.verify_generation(store.list()[0], &why).is_ok());
  EXPECT_EQ(why, "rank-00001.ackpt is missing");
}

TEST(StoreTest, CommitNeedsEveryRankImage) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  std::string dir;
  ASSERT_TRUE(store.begin(1, &dir).is_ok());
  ASSERT_TRUE(write_image(store, 1, 0, 100).is_ok());
  EXPECT_EQ(store.commit(1, 2).message(),
            "cannot commit generation 1: " + store.image_path(1, 1) + " does not exist");
  EXPECT_FALSE(store.list()[0].committed);
  EXPECT_THAT(write_image(store, 2, 0, 100).message(), HasSubstr("cannot create"))
      << "generation 2 was never begun";
}

TEST(StoreTest, BeginAndAbandonTouchOnlyUncommittedGenerations) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  write_generation(store, 1);
  std::string dir;
  EXPECT_THAT(store.begin(1, &dir).message(), HasSubstr("is already committed"));
  EXPECT_THAT(store.abandon(1).message(), HasSubstr("is committed"));
  EXPECT_TRUE(store.list()[0].committed);

  ASSERT_TRUE(store.begin(2, &dir).is_ok());
  std::ofstream(dir + "/rank-00000.ackpt.tmp") << "left by a killed writer";
  ASSERT_TRUE(store.begin(2, &dir).is_ok());
  EXPECT_TRUE(fs::is_empty(dir)) << "a new attempt starts clean";
  ASSERT_TRUE(store.abandon(2).is_ok());
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(store.remove(1).is_ok());
  EXPECT_TRUE(store.list().empty());
}

TEST(StoreTest, FullDiskFailsCleanlyAndKeepsThePreviousGeneration) {
  TempDir tmp;
  TmpfsMount small(tmp / "small", "size=1m");
  if (!small.ok()) GTEST_SKIP() << "cannot mount a 1 MiB tmpfs: " << small.error();
  GenerationStore store(tmp / "small/ckpt");
  ASSERT_TRUE(store.prepare().is_ok());
  write_generation(store, 1);

  std::string dir;
  ASSERT_TRUE(store.begin(2, &dir).is_ok());
  Status s = write_image(store, 2, 0, 4 << 20);
  const std::string tmp_file = store.image_path(2, 0) + ".tmp";
  EXPECT_THAT(s.message(), HasSubstr("cannot write " + tmp_file + " (No space left on device): " +
                                     "the disk is full: free space in " + dir));
  EXPECT_TRUE(fs::is_empty(dir)) << "neither the .tmp nor the final file is left";
  ASSERT_TRUE(store.abandon(2).is_ok());

  std::vector<GenerationInfo> gens = store.list();
  ASSERT_EQ(gens.size(), 1u);
  EXPECT_TRUE(gens[0].committed);
  EXPECT_TRUE(store.verify_generation(gens[0], nullptr).is_ok());
}

TEST(StoreTest, AKillWhileWritingNeverLeavesAPartialGenerationCommitted) {
  TempDir tmp;
  GenerationStore store(tmp.path());
  write_generation(store, 1);
  for (int delay_us = 0; delay_us < 40000; delay_us += 2371) {  // kills at many phases of a write
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // writes, commits and prunes generations until killed
      for (;;) {
        uint64_t gen = store.next_number();
        std::string dir;
        if (!store.begin(gen, &dir) || !write_image(store, gen, 0, 3 << 20) ||
            !store.commit(gen, 1)) {
          ::_exit(1);
        }
        store.prune(2);
      }
    }
    ::usleep(delay_us);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed on its own";

    std::vector<GenerationInfo> gens = store.list();
    ASSERT_FALSE(numbers(gens, true).empty()) << "a committed generation survives";
    for (const GenerationInfo &g : gens) {
      if (!g.committed) continue;
      std::string why;
      EXPECT_TRUE(store.verify_generation(g, &why).is_ok())
          << "generation " << g.number << " after a kill at " << delay_us << " us: " << why;
    }
  }
  EXPECT_GT(store.next_number(), 3u) << "the writer got far enough to be killed mid-write";
}

}  // namespace
}  // namespace autockpt::image
