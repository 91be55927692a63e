/* The allocator setting that keeps freed large buffers mapped (`keepLargeBuffersMapped()`). */
#include "CImageIO.h"
#include <malloc.h>
void cio_keep_large_buffers(void) {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 1 << 30); /* serve big blocks from the heap, not fresh mmaps */
    mallopt(M_TRIM_THRESHOLD, 0x7FFFFFFF); /* and never give the heap back */
#endif
}
