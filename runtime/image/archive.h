// Boost.Serialization binary archives to and from a byte string: the one way the runtime
// serialises structured state (the image's metadata, its open files, the C library's state).
#pragma once

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include <exception>
#include <sstream>
#include <string>

#include "status.h"

namespace autockpt::image {

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
    boost::archive::binary_iarchive archive(in);
    T value;
    archive >> value;
    *out = std::move(value);
    return Status::ok();
  } catch (const std::exception &e) {  // boost::archive::archive_exception is one too
    return Status::error(std::string(what) + " cannot be read (" + e.what() + ")");
  }
}

}  // namespace autockpt::image
