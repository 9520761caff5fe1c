// The POSIX helpers the image code shares: whole writes and reads that survive EINTR and short
// transfers, directory fsync, and the sentence that explains a failed file operation.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "status.h"

namespace autockpt::image {

// Writes all `size` bytes at `offset`.  Returns 0, or the errno of the failure.
inline int pwrite_all(int fd, const void *data, uint64_t size, uint64_t offset) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    p += n;
    offset += n;
    size -= n;
  }
  return 0;
}

// Reads exactly `size` bytes at `offset`.  Returns 0, or the errno of the failure; the end of
// the file before `size` bytes reads as ENODATA.
inline int pread_all(int fd, void *data, uint64_t size, uint64_t offset) {
  char *p = static_cast<char *>(data);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENODATA;
    p += n;
    offset += n;
    size -= n;
  }
  return 0;
}

// "/a/b/c" → "/a/b", "c" → ".", "/c" → "/".
inline std::string parent_dir(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Makes a rename or a new entry in `dir` durable.  Returns 0, or the errno of the failure.
inline int fsync_dir(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = (::fsync(fd) == 0 || errno == EINVAL) ? 0 : errno;  // EINVAL: no fsync for dirs
  ::close(fd);
  return err;
}

// What a person can do about `err` hitting a file in `dir`.
inline std::string io_advice(int err, const std::string &dir) {
  switch (err) {
    case ENOSPC:
      return "the disk is full: free space in " + dir + " or point AUTOCKPT_DIR elsewhere";
    case EDQUOT:
      return "the disk quota is exhausted: free space in " + dir +
             " or point AUTOCKPT_DIR elsewhere";
    case EACCES:
    case EPERM:
      return dir + " is not writable: fix its permissions or point AUTOCKPT_DIR elsewhere";
    case EROFS: return dir + " is on a read-only file system: point AUTOCKPT_DIR elsewhere";
    case EIO:
      return "the storage reported an I/O error: check the file system of " + dir +
             " or point AUTOCKPT_DIR elsewhere";
    default: return "check " + dir + " or point AUTOCKPT_DIR elsewhere";
  }
}

// "cannot <what> <path> (<errno text>): <advice>".
inline Status io_failure(const std::string &what, const std::string &path, int err) {
  return Status::error("cannot " + what + " " + path + " (" + std::strerror(err) +
                       "): " + io_advice(err, parent_dir(path)));
}

}  // namespace autockpt::image
