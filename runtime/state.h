// The calling thread's state word (include/autockpt/abi.h), as the runtime reads and writes it.
#pragma once

#include "autockpt/abi.h"

namespace autockpt::state {

// The flag: the low half of a state word.  Stored to from signal handlers, for any thread.
inline volatile int *flag_of(unsigned long long *word) {
  return reinterpret_cast<volatile int *>(word);
}
inline volatile int &flag() { return *flag_of(&__autockpt_state); }
// Its request bit (the flag's other bits belong to the triggers: trigger.h).
constexpr int kRequestBit = 1;
inline void raise(unsigned long long *word, int bits = kRequestBit) {
  __atomic_fetch_or(const_cast<int *>(flag_of(word)), bits, __ATOMIC_RELAXED);
}
inline void lower(unsigned long long *word, int bits = kRequestBit) {
  __atomic_fetch_and(const_cast<int *>(flag_of(word)), ~bits, __ATOMIC_RELAXED);
}

// The mode: the high half; only its own thread touches it.
inline int &mode() { return reinterpret_cast<int *>(&__autockpt_state)[1]; }

}  // namespace autockpt::state
