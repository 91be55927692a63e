/* The allocator setting that keeps freed large buffers mapped (`keepLargeBuffersMapped()`). */
#include "CImageIO.h"
#include <malloc.h>
void cio_keep_large_buffers(void) {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 1 << 30); /* serve big blocks from the heap, not fresh mmaps */
    mallopt(M_TRIM_THRESHOLD, 0x7FFFFFFF); /* and never give the heap back */
#endif
#ifdef M_ARENA_MAX
    /* One arena for every thread: the workers and the read-ahead allocate big, short-lived buffers, and with an
     * arena per thread each kept its own freed blocks (W1 over the photo set: 151 MB peak RSS with the default
     * arenas, 109 MB with one, at the same speed: allocations are few and large, so the arena lock is idle). */
    mallopt(M_ARENA_MAX, 1);
#endif
}
