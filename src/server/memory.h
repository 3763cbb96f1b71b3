// Keeps the server's resident memory near its idle level after bursts of large requests.
// glibc gives every thread that allocates concurrently an arena of its own and, after the
// first large free, raises its mmap threshold so later large blocks live in those arenas
// too: a burst of 1 MiB requests on the HTTP pool's threads then stays resident for good.
// A fixed mmap threshold (blocks of 128 KiB and more are mapped and unmapped on free) and
// two arenas keep RSS within 1% of idle after such a burst (bench/rss_burst.py).
#pragma once

namespace qwen3::server {

// Call once at start-up, before threads allocate (a no-op on C libraries without mallopt).
void bound_allocator_retention();

}  // namespace qwen3::server
