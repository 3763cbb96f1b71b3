// bound_allocator_retention: glibc's mallopt knobs (see memory.h for why).
#include "server/memory.h"

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace qwen3::server {

void bound_allocator_retention() {
#if defined(M_ARENA_MAX) && defined(M_MMAP_THRESHOLD)
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // fixed: no dynamic growth after large frees
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
}

}  // namespace qwen3::server
