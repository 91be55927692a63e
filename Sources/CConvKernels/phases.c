/* Column phases for strided convolutions (ConvolutionPlan.padPhased): the copy that splits a padded row into the
 * planes of its even and odd columns, the common stride 2. Plain loops the compiler vectorises with shuffles. */
#include "CConvKernels.h"

void cck_deinterleave2(const float *source, ptrdiff_t pairs, float *even, float *odd) {
    for (ptrdiff_t i = 0; i < pairs; i++) {
        even[i] = source[2 * i];
        odd[i] = source[2 * i + 1];
    }
}
