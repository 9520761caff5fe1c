// Boost.Serialization binary archives to and from a byte string: the one way the runtime
// serialises structured state (the image's metadata, its open files, the C library's state).
#pragma once

#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/detail/register_archive.hpp>
#include <boost/serialization/array_optimization.hpp>
#include <boost/serialization/collection_size_type.hpp>

#include <cstdint>
#include <exception>
#include <sstream>
#include <string>

#include "status.h"

namespace autockpt::image {

// boost::archive::binary_iarchive, except that a string's length or a collection's count larger
// than the bytes left in the archive is an error before anything is allocated: Boost resizes
// first and reads after, so a damaged length asked for gigabytes.  Reads what binary_oarchive
// writes.  Its Boost class templates are instantiated once, in format.cpp.
class BoundedIArchive
    : public boost::archive::binary_iarchive_impl<BoundedIArchive, char, std::char_traits<char>> {
  using Impl = boost::archive::binary_iarchive_impl<BoundedIArchive, char, std::char_traits<char>>;
  using Primitive =
      boost::archive::basic_binary_iprimitive<BoundedIArchive, char, std::char_traits<char>>;
  friend class boost::archive::detail::interface_iarchive<BoundedIArchive>;
  friend class boost::archive::basic_binary_iarchive<BoundedIArchive>;
  friend class boost::archive::load_access;

 public:
  // `in` holds `size` bytes from its current position on.
  BoundedIArchive(std::istream &in, uint64_t size) : Impl(in, 0), in_(in), size_(size) { init(0); }

  using Primitive::load;
  void load(std::string &s) {
    std::size_t length = 0;
    Primitive::load(length);
    check(length);
    s.resize(length);
    if (length > 0) load_binary(&s[0], length);
  }

 private:
  template <class T>
  void load_override(T &t) {
    Impl::load_override(t);
  }
  void load_override(boost::serialization::collection_size_type &t) {
    Impl::load_override(t);
    check(t);  // every element takes at least one byte
  }

  void check(uint64_t wanted) {
    const std::streamoff at = in_.rdbuf()->pubseekoff(0, std::ios::cur, std::ios::in);
    if (at < 0 || wanted > size_ - uint64_t(at)) {
      boost::serialization::throw_exception(
          boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error));
    }
  }

  std::istream &in_;
  const uint64_t size_;
};

template <class T>
std::string to_archive(const T &value) {
  std::ostringstream out;
  {
    boost::archive::binary_oarchive archive(out);
    archive << value;
  }
  return out.str();
}

// `what` names the contents for the message: "the image's metadata", ...
template <class T>
Status from_archive(const std::string &bytes, T *out, const char *what) {
  try {
    std::istringstream in(bytes);
    BoundedIArchive archive(in, bytes.size());
    T value;
    archive >> value;
    *out = std::move(value);
    return Status::ok();
  } catch (const std::exception &e) {  // boost::archive::archive_exception is one too
    return Status::error(std::string(what) + " cannot be read (" + e.what() + ")");
  }
}

}  // namespace autockpt::image

BOOST_SERIALIZATION_REGISTER_ARCHIVE(autockpt::image::BoundedIArchive)
// binary_oarchive writes a vector of integers as one array (no item version): read it the same way.
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(autockpt::image::BoundedIArchive)
