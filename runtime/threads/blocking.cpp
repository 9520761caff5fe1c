// Blocking calls as safe points (DESIGN D8, docs/design.md H5).  Instrumented code calls these
// instead of the library's (include/autockpt/redirects.def); each call site is a safe point.  A
// wrapper waits in slices of kSlice, and between two slices looks at the calling thread's flag:
// when a checkpoint is asked for, it starts unwinding (as a poll would) and returns at once; its
// caller saves its frame at the call, and when the frames are re-entered the call is made again
// with the same arguments.  The object waited on is left as the call found it, or as a spurious
// wakeup leaves it (a condition wait returns with its mutex held), so nothing is lost.
#include "autockpt/abi.h"
#include "state.h"
#include "threads/threads.h"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <dlfcn.h>
#include <linux/futex.h>
#include <mutex>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace autockpt::threads {

namespace {

constexpr long kSlice = 5'000'000;  // ns: how late a blocked thread may notice a request

timespec now(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return t;
}

timespec add(timespec t, long long ns) {
  t.tv_sec += time_t(ns / 1'000'000'000);
  t.tv_nsec += long(ns % 1'000'000'000);
  if (t.tv_nsec >= 1'000'000'000) {
    t.tv_nsec -= 1'000'000'000;
    ++t.tv_sec;
  }
  return t;
}

bool before(const timespec &a, const timespec &b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// The next slice's end, or `limit` if that is sooner (then *last is set).
timespec slice_end(clockid_t clock, const timespec *limit, bool *last) {
  timespec end = add(now(clock), kSlice);
  *last = limit && !before(end, *limit);
  return *last ? *limit : end;
}

// Whether the calling thread stops here for a checkpoint: it is then unwinding, and the
// wrapper returns at once (its return value is not looked at).  Only a request counts: a slice
// is not a poll, or the polls counted for AUTOCKPT_HALT_POLL would depend on time (R17).
inline bool stop_here() {
  return (state::flag() & state::kRequestBit) && __autockpt_poll_slow();
}

// A sleep stopped for a checkpoint saves a frame record of its own, innermost, holding the time
// it had left: the call made again when the frames are re-entered sleeps only that.  (Made again
// in full, a sleep longer than the checkpoint interval would never end.)
constexpr autockpt_u64 kSleepFid = 0x736c656570ull;  // "sleep"

long long left_ns(const timespec &end) {
  timespec t = now(CLOCK_MONOTONIC);
  long long ns = (long long)(end.tv_sec - t.tv_sec) * 1'000'000'000 + (end.tv_nsec - t.tv_nsec);
  return ns > 0 ? ns : 0;
}

void sleep_for(long long ns) {
  if (state::mode() == AUTOCKPT_MODE_RESTORING) {
    auto *rec = static_cast<char *>(__autockpt_pop_frame(kSleepFid, 0));
    memcpy(&ns, rec + sizeof(autockpt_frame_head), sizeof ns);
  }
  timespec end = add(now(CLOCK_MONOTONIC), ns);
  for (;;) {
    if (stop_here()) {
      long long left = left_ns(end);
      memcpy(__autockpt_push_frame(kSleepFid, 1, 0, sizeof left), &left, sizeof left);
      return;
    }
    bool last;
    timespec until = slice_end(CLOCK_MONOTONIC, &end, &last);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    }
    if (last)
      return;
  }
}

// A condition wait stopped after it let go of its mutex saves a frame record of its own (this
// function id, no payload), innermost: when the frames are re-entered, the call made again finds
// it, takes the mutex again and returns as a spurious wakeup.
constexpr autockpt_u64 kRetakeFid = 0x6175746f636b7074ull;  // "autockpt"

thread_local pthread_mutex_t t_private = PTHREAD_MUTEX_INITIALIZER;

// Takes `m` back after a condition wait: in slices, a safe point between them.  Returns
// `result`, or 0 once stopped (the record says to take it again).
int retake(pthread_mutex_t *m, int result) {
  for (;;) {
    if (stop_here()) {
      __autockpt_push_frame(kRetakeFid, 1, 0, 0);
      return 0;
    }
    bool last;
    timespec end = slice_end(CLOCK_MONOTONIC, nullptr, &last);
    int rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &end);
    if (rc != ETIMEDOUT)
      return rc ? rc : result;
  }
}

// pthread_cond_wait and _timedwait (abstime null: no limit).  glibc's own wait takes the mutex
// back inside the C library, where nothing can stop it, and a thread stopped for the checkpoint
// may hold it: so the wait proper is on a private mutex of this thread's, and the program's
// mutex is let go before it and taken back after it by retake().  A signal sent between the two
// (a few instructions) is seen at the end of the slice, as a spurious wakeup.
int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const timespec *abstime) {
  fix_owner(m);
  if (state::mode() == AUTOCKPT_MODE_RESTORING) {  // made again: it had let go of the mutex
    __autockpt_pop_frame(kRetakeFid, 0);
    return retake(m, 0);
  }
  if (stop_here())
    return 0;  // stopped before waiting, with the mutex held: the wait is made again
  // glibc keeps the condition variable's clock in bit 0 of __wrefs; slices are on that clock.
  clockid_t clock = (c->__data.__wrefs & 1) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  bool last;
  timespec end = slice_end(clock, abstime, &last);
  pthread_mutex_lock(&t_private);
  pthread_mutex_unlock(m);
  int rc = pthread_cond_clockwait(c, &t_private, clock, &end);
  pthread_mutex_unlock(&t_private);
  if (rc == ETIMEDOUT && !last)
    rc = 0;  // the slice ended: a spurious wakeup
  if (stop_here()) {
    __autockpt_push_frame(kRetakeFid, 1, 0, 0);
    return 0;
  }
  return retake(m, rc);
}

// A barrier initialised by instrumented code keeps the runtime's state in the program's
// pthread_barrier_t (32 bytes, 8-aligned): one word with the round in its high half and the
// number of threads arrived in this round in its low half, the count, and a mark.  glibc's
// barrier cannot be left once entered; this one can: a thread waiting in it when a checkpoint
// is requested withdraws (the arrived count goes down again, unless the round has just ended)
// and stops, and the call made again after the checkpoint arrives anew.  So no thread is ever
// counted in a barrier at a checkpoint, and the saved barrier is between rounds.
struct Barrier {
  std::atomic<uint64_t> word;
  uint32_t count;
  uint32_t mark;
};
static_assert(sizeof(Barrier) <= sizeof(pthread_barrier_t));
constexpr uint32_t kBarrierMark = 0x61636b62;  // "bkca"

uint32_t *round_word(Barrier *b) {  // the high half, for the futex (little-endian)
  return reinterpret_cast<uint32_t *>(&b->word) + 1;
}

// Arrives in the current round, returned in *round; true on the thread that ends it.
bool arrive(Barrier *b, uint32_t *round) {
  uint64_t w = b->word.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t r = uint32_t(w >> 32), arrived = uint32_t(w) + 1;
    bool last = arrived == b->count;
    uint64_t next = last ? uint64_t(r + 1) << 32 : w + 1;
    if (b->word.compare_exchange_weak(w, next, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      *round = r;
      if (last)
        syscall(SYS_futex, round_word(b), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
      return last;
    }
  }
}

// Withdraws from `round`: false if that round has ended meanwhile (the thread went through).
bool withdraw(Barrier *b, uint32_t round) {
  uint64_t w = b->word.load(std::memory_order_relaxed);
  while (uint32_t(w >> 32) == round)
    if (b->word.compare_exchange_weak(w, w - 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed))
      return true;
  return false;
}

int barrier_wait(Barrier *b) {
  if (stop_here())
    return 0;  // not arrived: the call is made again after the checkpoint
  uint32_t round;
  if (arrive(b, &round))
    return PTHREAD_BARRIER_SERIAL_THREAD;
  for (;;) {
    timespec slice = {0, kSlice};
    syscall(SYS_futex, round_word(b), FUTEX_WAIT_PRIVATE, round, &slice, nullptr, 0);
    if (uint32_t(b->word.load(std::memory_order_acquire) >> 32) != round)
      return 0;
    if (state::flag() & state::kRequestBit) {
      if (!withdraw(b, round))
        return 0;
      if (__autockpt_poll_slow())
        return 0;  // stopping: the call is made again after the checkpoint
      if (arrive(b, &round))  // not stopped after all (the checkpoint was given up)
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
  }
}

// The futex wait of std::future (libstdc++'s __atomic_futex_unsigned_base), in slices: true
// once *addr may have changed (woken, or it was not `val`), false at the time limit (absolute,
// on `clock`).  Stopped for a checkpoint it returns true, as a wakeup: its caller reads the value
// again and waits again, after the post-call check has unwound it and the frames are back.  Not
// a private futex: libstdc++ wakes its waiters with a shared one, a different key.
bool futex_wait(unsigned *addr, unsigned val, bool has_timeout, long long s, long long ns,
                clockid_t clock) {
  timespec limit = {time_t(s), long(ns)};
  int op = FUTEX_WAIT_BITSET | (clock == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
  for (;;) {
    if (stop_here())
      return true;
    bool last;
    timespec end = slice_end(clock, has_timeout ? &limit : nullptr, &last);
    if (syscall(SYS_futex, addr, op, val, &end, nullptr, FUTEX_BITSET_MATCH_ANY) == 0 ||
        errno == EAGAIN)
      return true;
    if (errno == ETIMEDOUT && last)
      return false;
  }
}

}  // namespace

const char *blocking_frame_name(uint64_t fid) {
  return fid == kRetakeFid  ? "(a condition wait, to retake its mutex)"
         : fid == kSleepFid ? "(a sleep, with the time it has left)"
                            : nullptr;
}

}  // namespace autockpt::threads

using namespace autockpt::threads;

extern "C" {

// A recursive or error-checking mutex checks its owner's kernel thread id (fix_owner).
int __autockpt_pthread_mutex_unlock(pthread_mutex_t *m) {
  fix_owner(m);
  return pthread_mutex_unlock(m);
}

int __autockpt_pthread_mutex_trylock(pthread_mutex_t *m) {
  fix_owner(m);
  return pthread_mutex_trylock(m);
}

int __autockpt_pthread_mutex_lock(pthread_mutex_t *m) {
  if (stop_here())
    return 0;  // not acquired: the call is made again after the checkpoint
  fix_owner(m);
  int rc = pthread_mutex_trylock(m);
  if (rc != EBUSY || m->__data.__owner == gettid())
    return rc == EBUSY ? pthread_mutex_lock(m) : rc;  // EDEADLK for an error-checking mutex
  for (;;) {
    if (stop_here())
      return 0;  // not acquired: the call is made again after the checkpoint
    bool last;
    timespec end = slice_end(CLOCK_MONOTONIC, nullptr, &last);
    rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &end);
    if (rc != ETIMEDOUT)
      return rc;
  }
}

int __autockpt_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  return cond_wait(c, m, nullptr);
}

int __autockpt_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                      const struct timespec *abstime) {
  return cond_wait(c, m, abstime);
}

int __autockpt_pthread_join(pthread_t t, void **ret) {
  for (;;) {
    if (stop_here())
      return 0;  // not joined: the call is made again after the checkpoint
    bool last;
    timespec end = slice_end(CLOCK_MONOTONIC, nullptr, &last);
    int rc = pthread_clockjoin_np(t, ret, CLOCK_MONOTONIC, &end);
    if (rc != ETIMEDOUT) {
      if (rc == 0)
        joined(t);
      return rc;
    }
  }
}

int __autockpt_sem_wait(sem_t *s) {
  for (;;) {
    if (stop_here())
      return 0;
    bool last;
    timespec end = slice_end(CLOCK_MONOTONIC, nullptr, &last);
    if (sem_clockwait(s, CLOCK_MONOTONIC, &end) == 0)
      return 0;
    if (errno != ETIMEDOUT && errno != EINTR)
      return -1;
  }
}

int __autockpt_pthread_barrier_init(pthread_barrier_t *pb, const pthread_barrierattr_t *attr,
                                    unsigned count) {
  int shared = PTHREAD_PROCESS_PRIVATE;
  if (attr)
    pthread_barrierattr_getpshared(attr, &shared);
  if (shared != PTHREAD_PROCESS_PRIVATE)  // between processes: glibc's, not a safe point
    return pthread_barrier_init(pb, attr, count);
  if (count == 0)
    return EINVAL;
  auto *b = reinterpret_cast<Barrier *>(pb);
  b->word.store(0, std::memory_order_relaxed);
  b->count = count;
  b->mark = kBarrierMark;
  return 0;
}

int __autockpt_pthread_barrier_destroy(pthread_barrier_t *pb) {
  auto *b = reinterpret_cast<Barrier *>(pb);
  if (b->mark != kBarrierMark)
    return pthread_barrier_destroy(pb);
  if (uint32_t(b->word.load(std::memory_order_acquire)) != 0)
    return EBUSY;
  b->mark = 0;
  return 0;
}

int __autockpt_pthread_barrier_wait(pthread_barrier_t *pb) {
  auto *b = reinterpret_cast<Barrier *>(pb);
  if (b->mark != kBarrierMark)  // initialised outside instrumented code
    return pthread_barrier_wait(pb);
  return barrier_wait(b);
}

// A sleep is never cut short (no EINTR, no time left over): a checkpoint in the middle makes it
// last longer by the checkpoint's time.
unsigned __autockpt_sleep(unsigned s) {
  sleep_for((long long)s * 1'000'000'000);
  return 0;
}

int __autockpt_usleep(useconds_t us) {
  sleep_for((long long)us * 1000);
  return 0;
}

int __autockpt_nanosleep(const struct timespec *req, struct timespec *rem) {
  if (req->tv_nsec < 0 || req->tv_nsec >= 1'000'000'000 || req->tv_sec < 0) {
    errno = EINVAL;
    return -1;
  }
  sleep_for((long long)req->tv_sec * 1'000'000'000 + req->tv_nsec);
  if (rem)
    *rem = {0, 0};
  return 0;
}

// std::__atomic_futex_unsigned_base::_M_futex_wait_until (CLOCK_REALTIME) and _steady
// (CLOCK_MONOTONIC), member functions: `self` is unused.
bool __autockpt__ZNSt28__atomic_futex_unsigned_base19_M_futex_wait_untilEPjjbNSt6chrono8durationIlSt5ratioILl1ELl1EEEENS2_IlS3_ILl1ELl1000000000EEEE(
    void *self, unsigned *addr, unsigned val, bool has_timeout, std::chrono::seconds s,
    std::chrono::nanoseconds ns) {
  (void)self;
  return futex_wait(addr, val, has_timeout, s.count(), ns.count(), CLOCK_REALTIME);
}

bool __autockpt__ZNSt28__atomic_futex_unsigned_base26_M_futex_wait_until_steadyEPjjbNSt6chrono8durationIlSt5ratioILl1ELl1EEEENS2_IlS3_ILl1ELl1000000000EEEE(
    void *self, unsigned *addr, unsigned val, bool has_timeout, std::chrono::seconds s,
    std::chrono::nanoseconds ns) {
  (void)self;
  return futex_wait(addr, val, has_timeout, s.count(), ns.count(), CLOCK_MONOTONIC);
}

// std::condition_variable::wait(std::unique_lock<std::mutex>&): the same wait on its handles.
void __autockpt__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(
    std::condition_variable *cv, std::unique_lock<std::mutex> *lock) {
  __autockpt_pthread_cond_wait(cv->native_handle(), lock->mutex()->native_handle());
}

}  // extern "C"
