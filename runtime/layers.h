// How a layer of the runtime (threads/, later omp/, mpi/, cuda/) hooks into the core: the core
// calls each phase of every layer linked into the program, in order, and never a layer by name.
// A layer is linked in when the program uses what it wraps (threads/ defines pthread_create);
// AUTOCKPT_LAYER puts it into a linker section the core walks.
#pragma once

#include <cstdint>
#include <string>

namespace autockpt::image {
struct ImageMeta;
}

namespace autockpt::layers {

// A layer that makes this process one rank of a job (mpi/): every rank writes its own image of
// the same generation, and the generation is committed only once every rank's is durable (rank
// 0 writes the manifest last).  The collective calls are made by every rank at the same point
// of the checkpoint, from the core, while the program is stopped.
struct Job {
  // Known before the program's constructors run (from the launcher's environment).
  int (*rank)();
  int (*size)();
  // Collectives over the job: v[0..n) becomes the maximum of each over all ranks (n <= 8);
  // whether `ok` on every rank.
  void (*max)(uint64_t *v, int n);
  bool (*all)(bool ok);
};

struct Layer {
  const char *name;
  // A checkpoint was requested (from a signal handler or the timer's thread): async-signal-safe.
  void (*request)();
  // The calling thread is at a safe point, about to unwind its frames for a checkpoint: returns
  // true once every thread is (a thread's frames may hold objects other threads use: none may
  // run while any saves its frames), false if the checkpoint was given up (a thread did not come
  // in time): the thread then goes on without unwinding.
  bool (*arrive)();
  // The calling thread's frames are saved.  Returns true on the thread that is to write the
  // image (every other thread is stopped then); on the others it returns once the image is
  // written (or the checkpoint given up), and they re-enter their frames.
  bool (*stop)();
  // On the writing thread, once the image is written: lets the stopped threads go on.
  void (*resume)();
  // Its section of the image (image::SectionKind), 0 for none.  Writing: fill the layer's part
  // of the metadata and its section's bytes.  Reading: take them.
  unsigned section;
  void (*save)(image::ImageMeta *meta, std::string *section);
  void (*load)(const image::ImageMeta &meta, std::string section);
  // A restarted process, once the image is read, before the main thread re-enters its frames.
  void (*restart)();
  // The calling thread has re-entered all its frames: returns once every thread has, so that no
  // thread runs the program's code while another one's frames are not back yet.
  void (*reentered)();
  // The program waits at AUTOCKPT_HALT_POLL (R17), called about every millisecond: a layer that
  // must keep answering others (mpi/) does so here, and raises the flag to stop.
  void (*idle)() = nullptr;
  // Non-null in the layer that makes the process a rank of a job.
  const Job *job = nullptr;
};

// The job this process is a rank of; null for a process on its own.
const Job *job();

#define AUTOCKPT_LAYER(var)                                                            \
  [[gnu::used, gnu::section("autockpt_layers")]] const ::autockpt::layers::Layer *     \
      autockpt_layer_##var = &var

// Calls fn(layer) for every layer linked in.
template <class Fn>
void each(Fn fn);

}  // namespace autockpt::layers

extern "C" {
extern const autockpt::layers::Layer *const __start_autockpt_layers[] __attribute__((weak));
extern const autockpt::layers::Layer *const __stop_autockpt_layers[] __attribute__((weak));
}

template <class Fn>
void autockpt::layers::each(Fn fn) {
  for (const Layer *const *l = __start_autockpt_layers; l && l != __stop_autockpt_layers; ++l)
    fn(**l);
}

inline const autockpt::layers::Job *autockpt::layers::job() {
  const Job *j = nullptr;
  each([&](const Layer &l) {
    if (l.job)
      j = l.job;
  });
  return j;
}
