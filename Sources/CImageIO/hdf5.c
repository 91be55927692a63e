/* HDF5 (Keras .h5, .weights.h5 and the model.weights.h5 inside a .keras archive): open a file image held in memory,
 * list its datasets, read one numeric dataset as doubles, read a string attribute. The only code that calls libhdf5.
 *
 * libhdf5 keeps global state and Debian's serial build is not thread-safe, so every entry point holds one mutex.
 * Its error printing is switched off (H5Eset_auto2) and each failure comes back as a status and a one-line message
 * (libhdf5's innermost error description, after ours). Everything a file declares is bounded before anything is
 * allocated: rank ≤ CIO_H5_MAX_RANK, element counts checked (with overflow) against the caller's limit, string
 * attributes ≤ CIO_H5_MAX_STRING_BYTES, names ≤ CIO_H5_MAX_NAME_BYTES, at most max_count datasets listed.
 */
#define _GNU_SOURCE /* memmem */
#include "CImageIO.h"
#include <hdf5.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

/* The innermost (most specific) message on libhdf5's error stack. */
static herr_t h5_first_error(unsigned n, const H5E_error2_t *err, void *data) {
    char *out = data;
    if (n == 0 && err->desc && err->desc[0]) snprintf(out, 128, "%s", err->desc);
    return 0;
}

static cio_status h5_fail(char *message, cio_status status, const char *what, const char *name) {
    char inner[128] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_first_error, inner);
    H5Eclear2(H5E_DEFAULT);
    if (name) {
        if (inner[0]) snprintf(message, CIO_MESSAGE_CAPACITY, "%s '%.80s' (%s)", what, name, inner);
        else snprintf(message, CIO_MESSAGE_CAPACITY, "%s '%.80s'", what, name);
    } else {
        if (inner[0]) snprintf(message, CIO_MESSAGE_CAPACITY, "%s (%s)", what, inner);
        else snprintf(message, CIO_MESSAGE_CAPACITY, "%s", what);
    }
    return status;
}

static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
static hid_t h5_dapl(void);
static hid_t h5_lapl(void);

static uint64_t h5_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Checks what libhdf5 1.10.8 trusts in a global heap collection ("GCOL", where variable-length strings live) before
 * it reads one (both found by fuzzing): an object's stated size against its collection (H5HG_read copies that many
 * bytes, a SEGV in memcpy), and a free-space object of size 0 (its deserializer then loops forever). Every
 * collection in the file must hold its objects whole, walked as libhdf5 walks them. Each string's descriptor is
 * checked against its collection before libhdf5 reads it (h5_check_descriptors). Needs 8-byte offsets and lengths
 * (what h5py and Keras write). */
static int h5_check_global_heaps(const uint8_t *bytes, size_t count, char *message) {
    if (count < 16) return 0; /* libhdf5 refuses it cleanly */
    unsigned version = bytes[8];
    size_t sizes_at = version <= 1 ? 13 : 9;
    if (count > sizes_at + 1 && (bytes[sizes_at] != 8 || bytes[sizes_at + 1] != 8)) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "an HDF5 file with %u-byte offsets and %u-byte lengths (only 8 and 8 are read)",
                 bytes[sizes_at], bytes[sizes_at + 1]);
        return -1;
    }
    uint8_t *present = malloc(65536);
    if (!present) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
        return -1;
    }
    int result = 0;
    for (const uint8_t *g = bytes; result == 0 && (g = memmem(g, count - (size_t)(g - bytes), "GCOL", 4)) != NULL; g += 4) {
        size_t at = (size_t)(g - bytes);
        if (at + 16 > count || g[4] != 1) continue;
        uint64_t size = h5_le(g + 8, 8);
        if (size < 16 || size > count - at) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "a global heap at byte %zu states %llu bytes, past the end of the file", at,
                     (unsigned long long)size);
            result = -1;
            break;
        }
        /* The objects, walked as libhdf5's H5HG deserializer walks them: index (2), references (2), reserved (4),
         * size (8), data padded to 8 bytes; index 0 is free space whose size counts its own header (a size of 0
         * there would loop forever); a tail too short for a header is free space. */
        memset(present, 0, 65536);
        size_t p = at + 16, end = at + (size_t)size;
        while (p < end && p + 16 <= end) {
            unsigned idx = (unsigned)h5_le(bytes + p, 2);
            uint64_t n = h5_le(bytes + p + 8, 8);
            if (idx == 0) {
                if (n < 16 || n > end - p) {
                    snprintf(message, CIO_MESSAGE_CAPACITY, "a global heap at byte %zu states %llu bytes of free space at byte %zu", at,
                             (unsigned long long)n, p);
                    result = -1;
                    break;
                }
                p += (size_t)n;
                continue;
            }
            if (n > end - p - 16 || present[idx]) {
                snprintf(message, CIO_MESSAGE_CAPACITY, "a global heap at byte %zu holds a damaged object (index %u, %llu bytes)", at, idx,
                         (unsigned long long)n);
                result = -1;
                break;
            }
            present[idx] = 1;
            p += 16 + (size_t)((n + 7) & ~(uint64_t)7);
        }
        if (result < 0) break;
    }
    free(present);
    return result;
}

cio_status cio_h5_open(const uint8_t *bytes, size_t count, int64_t *file, char *message) {
    *file = -1;
    if (h5_check_global_heaps(bytes, count, message) < 0) return CIO_CORRUPT;
    pthread_mutex_lock(&h5_lock);
    h5_quiet();
    cio_status status = CIO_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) { status = h5_fail(message, CIO_NO_MEMORY, "cannot set up HDF5 file access", NULL); goto done; }
    /* The core (memory) driver over a copy of the bytes, never written back. */
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 || H5Pset_file_image(fapl, (void *)bytes, count) < 0) {
        status = h5_fail(message, CIO_NO_MEMORY, "cannot hold the HDF5 file in memory", NULL);
        goto done;
    }
    /* libhdf5 shares an open file by name: each image gets its own, or two open images would be one file. */
    static unsigned long long opened = 0;
    char name[64];
    snprintf(name, sizeof name, "convbank-image-%llu.h5", ++opened);
    hid_t f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
    if (f < 0) { status = h5_fail(message, CIO_CORRUPT, "not a readable HDF5 file", NULL); goto done; }
    *file = f;
done:
    if (fapl >= 0) H5Pclose(fapl);
    pthread_mutex_unlock(&h5_lock);
    return status;
}

void cio_h5_close(int64_t file) {
    if (file < 0) return;
    pthread_mutex_lock(&h5_lock);
    h5_quiet();
    H5Fclose((hid_t)file);
    H5Eclear2(H5E_DEFAULT);
    pthread_mutex_unlock(&h5_lock);
}

/* Class, size, rank and dimensions of an open dataset; -1 (message set) when its type or space is not readable. */
static int h5_describe(hid_t ds, cio_h5_dataset *d, const char *path, char *message) {
    hid_t type = H5Dget_type(ds);
    if (type < 0) { h5_fail(message, CIO_CORRUPT, "unreadable datatype of dataset", path); return -1; }
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    H5Tclose(type);
    d->type_size = size > 0xFFFF ? 0xFFFF : (uint32_t)size;
    switch (cls) {
    case H5T_INTEGER: d->type_class = CIO_H5_INTEGER; break;
    case H5T_FLOAT: d->type_class = CIO_H5_FLOAT; break;
    case H5T_STRING: d->type_class = CIO_H5_STRING; break;
    default: d->type_class = CIO_H5_OTHER; break;
    }
    hid_t space = H5Dget_space(ds);
    if (space < 0) { h5_fail(message, CIO_CORRUPT, "unreadable dataspace of dataset", path); return -1; }
    H5S_class_t sc = H5Sget_simple_extent_type(space);
    int rank = H5Sget_simple_extent_ndims(space);
    if (sc == H5S_NULL) {
        rank = 0;
        d->type_class = CIO_H5_OTHER; /* no data at all */
    } else if (rank < 0 || rank > CIO_H5_MAX_RANK) {
        H5Sclose(space);
        if (rank < 0) h5_fail(message, CIO_CORRUPT, "unreadable dataspace of dataset", path);
        else snprintf(message, CIO_MESSAGE_CAPACITY, "dataset '%.80s' has %d dimensions (at most %d are read)", path, rank, CIO_H5_MAX_RANK);
        return -1;
    }
    hsize_t dims[CIO_H5_MAX_RANK] = {0};
    if (rank > 0 && H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        H5Sclose(space);
        h5_fail(message, CIO_CORRUPT, "unreadable dimensions of dataset", path);
        return -1;
    }
    H5Sclose(space);
    d->rank = (uint32_t)rank;
    for (int i = 0; i < CIO_H5_MAX_RANK; i++) d->dims[i] = i < rank ? (uint64_t)dims[i] : 0;
    return 0;
}

struct h5_listing {
    cio_h5_dataset *items;
    size_t count, capacity, max_count;
    cio_status status;
    char *message;
};

static herr_t h5_visit(hid_t root, const char *name, const H5O_info_t *info, void *data) {
    struct h5_listing *list = data;
    if (info->type != H5O_TYPE_DATASET) return 0;
    size_t length = strlen(name);
    if (length > CIO_H5_MAX_NAME_BYTES) {
        list->status = CIO_UNSUPPORTED;
        snprintf(list->message, CIO_MESSAGE_CAPACITY, "a dataset path of %zu bytes (at most %d are read)", length, CIO_H5_MAX_NAME_BYTES);
        return 1;
    }
    if (list->count >= list->max_count) {
        list->status = CIO_TOO_LARGE;
        snprintf(list->message, CIO_MESSAGE_CAPACITY, "more than %zu datasets", list->max_count);
        return 1;
    }
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 64;
        cio_h5_dataset *grown = realloc(list->items, capacity * sizeof *grown);
        if (!grown) { list->status = CIO_NO_MEMORY; snprintf(list->message, CIO_MESSAGE_CAPACITY, "out of memory"); return 1; }
        list->items = grown;
        list->capacity = capacity;
    }
    cio_h5_dataset *d = &list->items[list->count];
    memset(d, 0, sizeof *d);
    hid_t ds = H5Dopen2(root, name, h5_dapl());
    if (ds < 0) { list->status = h5_fail(list->message, CIO_CORRUPT, "cannot open dataset", name); return 1; }
    int described = h5_describe(ds, d, name, list->message);
    H5Dclose(ds);
    if (described < 0) { list->status = CIO_CORRUPT; return 1; }
    d->path = strdup(name);
    if (!d->path) { list->status = CIO_NO_MEMORY; snprintf(list->message, CIO_MESSAGE_CAPACITY, "out of memory"); return 1; }
    list->count++;
    return 0;
}

void cio_h5_free_datasets(cio_h5_dataset *items, size_t count) {
    if (!items) return;
    for (size_t i = 0; i < count; i++) free(items[i].path);
    free(items);
}

cio_status cio_h5_datasets(int64_t file, size_t max_count, cio_h5_dataset **out, size_t *out_count, char *message) {
    *out = NULL;
    *out_count = 0;
    struct h5_listing list = {NULL, 0, 0, max_count, CIO_OK, message};
    pthread_mutex_lock(&h5_lock);
    h5_quiet();
    herr_t r = H5Ovisit2((hid_t)file, H5_INDEX_NAME, H5_ITER_INC, h5_visit, &list, H5O_INFO_BASIC);
    if (list.status == CIO_OK && r < 0) list.status = h5_fail(message, CIO_CORRUPT, "cannot walk the HDF5 groups", NULL);
    H5Eclear2(H5E_DEFAULT);
    pthread_mutex_unlock(&h5_lock);
    if (list.status != CIO_OK) {
        cio_h5_free_datasets(list.items, list.count);
        return list.status;
    }
    *out = list.items;
    *out_count = list.count;
    return CIO_OK;
}

/* External links lead to other files on disk: refused (a model file must not make convbank read other files). */
static herr_t h5_refuse_external_link(const char *parent_file, const char *parent_group, const char *child_file,
                                      const char *child_object, unsigned *acc_flags, hid_t fapl, void *op_data) {
    (void)parent_file, (void)parent_group, (void)child_file, (void)child_object, (void)acc_flags, (void)fapl, (void)op_data;
    return -1;
}

/* Access property lists that refuse external links (made once, under h5_lock): datasets and links/attributes. */
static hid_t h5_dataset_access = -1, h5_link_access = -1;
static void h5_make_access_lists(void) {
    if (h5_dataset_access < 0) {
        h5_dataset_access = H5Pcreate(H5P_DATASET_ACCESS);
        if (h5_dataset_access >= 0) H5Pset_elink_cb(h5_dataset_access, h5_refuse_external_link, NULL);
    }
    if (h5_link_access < 0) {
        h5_link_access = H5Pcreate(H5P_LINK_ACCESS);
        if (h5_link_access >= 0) H5Pset_elink_cb(h5_link_access, h5_refuse_external_link, NULL);
    }
}
static hid_t h5_dapl(void) { h5_make_access_lists(); return h5_dataset_access >= 0 ? h5_dataset_access : H5P_DEFAULT; }
static hid_t h5_lapl(void) { h5_make_access_lists(); return h5_link_access >= 0 ? h5_link_access : H5P_DEFAULT; }

/* 0 when the dataset's values are stored in the file itself; -1 (message set) for external raw-data files or a
 * virtual dataset (both read other files on disk), or an unreadable creation property list. */
static int h5_stored_inside(hid_t ds, const char *path, char *message) {
    hid_t dcpl = H5Dget_create_plist(ds);
    if (dcpl < 0) { h5_fail(message, CIO_CORRUPT, "unreadable creation properties of dataset", path); return -1; }
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int external = H5Pget_external_count(dcpl);
    H5Pclose(dcpl);
    if (layout == H5D_VIRTUAL || external != 0 || layout < 0 || external < 0) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "dataset '%.80s' keeps its values outside the file (%s), which is not read", path,
                 layout == H5D_VIRTUAL ? "a virtual dataset" : "external storage");
        return -1;
    }
    return 0;
}

cio_status cio_h5_read_doubles(int64_t file, const char *path, double *buffer, uint64_t count, char *message) {
    pthread_mutex_lock(&h5_lock);
    h5_quiet();
    cio_status status = CIO_OK;
    hid_t space = -1;
    hid_t ds = H5Dopen2((hid_t)file, path, h5_dapl());
    if (ds < 0) { status = h5_fail(message, CIO_CORRUPT, "cannot open dataset", path); goto done; }
    if (h5_stored_inside(ds, path, message) < 0) { status = CIO_UNSUPPORTED; goto done; }
    cio_h5_dataset d;
    if (h5_describe(ds, &d, path, message) < 0) { status = CIO_CORRUPT; goto done; }
    if ((d.type_class != CIO_H5_FLOAT && d.type_class != CIO_H5_INTEGER) || d.type_size > 8) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "dataset '%.80s' is not numeric (%s)", path,
                 d.type_class == CIO_H5_STRING ? "strings" : "an unsupported datatype");
        status = CIO_UNSUPPORTED;
        goto done;
    }
    uint64_t n = 1;
    for (uint32_t i = 0; i < d.rank; i++) {
        if (d.dims[i] != 0 && n > UINT64_MAX / d.dims[i]) { n = UINT64_MAX; break; }
        n *= d.dims[i];
    }
    if (n != count) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "dataset '%.80s' holds %llu values, %llu expected", path,
                 (unsigned long long)n, (unsigned long long)count);
        status = CIO_CORRUPT;
        goto done;
    }
    if (count == 0) goto done;
    if (H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0) {
        status = h5_fail(message, CIO_CORRUPT, "cannot read dataset", path);
    }
done:
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    H5Eclear2(H5E_DEFAULT);
    pthread_mutex_unlock(&h5_lock);
    return status;
}

/* A conversion from a variable-length string to a 16-byte opaque value that keeps the stored descriptor (length 4,
 * collection address 8, object index 4) as it is: H5Aread through it hands us the descriptors without libhdf5
 * touching the global heap, so they can be checked first. */
static herr_t h5_keep_descriptor(hid_t src, hid_t dst, H5T_cdata_t *cdata, size_t n, size_t buf_stride, size_t bkg_stride,
                                 void *buf, void *bkg, hid_t dxpl) {
    (void)src; (void)dst; (void)n; (void)buf_stride; (void)bkg_stride; (void)buf; (void)bkg; (void)dxpl;
    switch (cdata->command) {
    case H5T_CONV_INIT:
        cdata->need_bkg = H5T_BKG_NO;
        return H5Tget_size(src) == 16 && H5Tget_size(dst) == 16 ? 0 : -1;
    case H5T_CONV_CONV: return 0; /* 16 bytes in place stay 16 bytes */
    default: return 0;
    }
}

static hid_t h5_descriptor_type = -1;

/* Whether the collection at `address` holds object `idx` of exactly `length` bytes (walked as h5_check_global_heaps
 * walked it, so it is whole). */
static int h5_heap_object_is(const uint8_t *bytes, size_t count, uint64_t address, uint64_t idx, uint64_t length) {
    if (address > count || count - address < 16 || memcmp(bytes + address, "GCOL", 4) != 0 || bytes[address + 4] != 1) return 0;
    uint64_t size = h5_le(bytes + address + 8, 8);
    if (size < 16 || size > count - address) return 0;
    size_t p = (size_t)address + 16, end = (size_t)address + (size_t)size;
    while (p < end && p + 16 <= end) {
        uint64_t i = h5_le(bytes + p, 2), n = h5_le(bytes + p + 8, 8);
        if (i == 0) {
            if (n < 16 || n > end - p) return 0;
            p += (size_t)n;
            continue;
        }
        if (n > end - p - 16) return 0;
        if (i == idx) return n == length;
        p += 16 + (size_t)((n + 7) & ~(uint64_t)7);
    }
    return 0;
}

/* Reads attribute `attr`'s `n` variable-length string descriptors raw and checks each names a whole global-heap
 * object of its length (libhdf5 1.10.8 checks neither the index nor the length: a bad one is a SEGV or a heap
 * overflow in H5HG_read). -1 with `message` set when one does not. */
static int h5_check_descriptors(hid_t attr, hssize_t n, const uint8_t *image, size_t image_count, const char *name, char *message) {
    if (h5_descriptor_type < 0) {
        hid_t vlen = H5Tcopy(H5T_C_S1);
        hid_t opaque = H5Tcreate(H5T_OPAQUE, 16);
        if (vlen < 0 || opaque < 0 || H5Tset_size(vlen, H5T_VARIABLE) < 0 || H5Tset_tag(opaque, "convbank vlen descriptor") < 0 ||
            H5Tregister(H5T_PERS_SOFT, "convbank_keep_descriptor", vlen, opaque, h5_keep_descriptor) < 0) {
            if (vlen >= 0) H5Tclose(vlen);
            if (opaque >= 0) H5Tclose(opaque);
            h5_fail(message, CIO_CORRUPT, "cannot set up the string check", NULL);
            return -1;
        }
        H5Tclose(vlen);
        h5_descriptor_type = opaque;
    }
    uint8_t *raw = malloc((size_t)(n ? n : 1) * 16);
    if (!raw) { snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory"); return -1; }
    if (n > 0 && H5Aread(attr, h5_descriptor_type, raw) < 0) {
        free(raw);
        h5_fail(message, CIO_CORRUPT, "cannot read attribute", name);
        return -1;
    }
    for (hssize_t i = 0; i < n; i++) {
        const uint8_t *d = raw + 16 * i;
        uint64_t length = h5_le(d, 4), address = h5_le(d + 4, 8), idx = h5_le(d + 12, 4);
        if (length == 0 || address == 0) continue; /* empty or null: nothing is read */
        if (!h5_heap_object_is(image, image_count, address, idx, length)) {
            free(raw);
            snprintf(message, CIO_MESSAGE_CAPACITY, "attribute '%.80s': string %lld names no global-heap object of its %llu bytes", name,
                     (long long)i, (unsigned long long)length);
            return -1;
        }
    }
    free(raw);
    return 0;
}

cio_status cio_h5_string_attribute(int64_t file, const uint8_t *image, size_t image_count, const char *object, const char *name,
                                   char **out, size_t *out_length, uint32_t *out_count, char *message) {
    *out = NULL;
    *out_length = 0;
    *out_count = 0;
    pthread_mutex_lock(&h5_lock);
    h5_quiet();
    cio_status status = CIO_OK;
    hid_t attr = -1, type = -1, space = -1, memtype = -1;
    char **strings = NULL;
    hssize_t n = 0;
    htri_t exists = H5Aexists_by_name((hid_t)file, object, name, h5_lapl());
    if (exists < 0) { status = h5_fail(message, CIO_CORRUPT, "cannot look for attribute", name); goto done; }
    if (exists == 0) goto done; /* absent: CIO_OK and *out == NULL */
    attr = H5Aopen_by_name((hid_t)file, object, name, H5P_DEFAULT, h5_lapl());
    if (attr < 0) { status = h5_fail(message, CIO_CORRUPT, "cannot open attribute", name); goto done; }
    type = H5Aget_type(attr);
    space = H5Aget_space(attr);
    if (type < 0 || space < 0) { status = h5_fail(message, CIO_CORRUPT, "unreadable attribute", name); goto done; }
    int rank = H5Sget_simple_extent_ndims(space);
    n = H5Sget_simple_extent_npoints(space);
    if (n == 0 && rank >= 0) { /* an empty list, of any type (h5py writes an empty float array for no names) */
        *out = malloc(1);
        if (!*out) { status = CIO_NO_MEMORY; snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory"); }
        goto done;
    }
    if (H5Tget_class(type) != H5T_STRING) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "attribute '%.80s' is not a string", name);
        status = CIO_UNSUPPORTED;
        goto done;
    }
    if (rank < 0 || rank > 1 || n < 0 || n > CIO_H5_MAX_STRINGS) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "attribute '%.80s' is not one string or a list of at most %d", name, CIO_H5_MAX_STRINGS);
        status = CIO_UNSUPPORTED;
        goto done;
    }
    htri_t variable = H5Tis_variable_str(type);
    if (variable < 0) { status = h5_fail(message, CIO_CORRUPT, "unreadable attribute", name); goto done; }
    size_t total = 0;
    char *text = NULL;
    if (variable) {
        if (H5Tget_size(type) != sizeof(char *) || h5_check_descriptors(attr, n, image, image_count, name, message) < 0) {
            if (!message[0]) snprintf(message, CIO_MESSAGE_CAPACITY, "attribute '%.80s' has an unexpected string type", name);
            status = CIO_CORRUPT;
            goto done;
        }
        memtype = H5Tcopy(H5T_C_S1);
        if (memtype < 0 || H5Tset_size(memtype, H5T_VARIABLE) < 0 || H5Tset_cset(memtype, H5Tget_cset(type)) < 0) {
            status = h5_fail(message, CIO_CORRUPT, "unreadable attribute", name);
            goto done;
        }
        strings = calloc((size_t)(n ? n : 1), sizeof *strings);
        if (!strings) { status = CIO_NO_MEMORY; snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory"); goto done; }
        if (n > 0 && H5Aread(attr, memtype, strings) < 0) {
            free(strings);
            strings = NULL;
            status = h5_fail(message, CIO_CORRUPT, "cannot read attribute", name);
            goto done;
        }
        for (hssize_t i = 0; i < n; i++) {
            size_t l = strings[i] ? strnlen(strings[i], CIO_H5_MAX_STRING_BYTES + 1) : 0;
            total += l + 1;
            if (total > CIO_H5_MAX_STRING_BYTES) break;
        }
        if (total > CIO_H5_MAX_STRING_BYTES) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "attribute '%.80s' holds more than %d bytes", name, CIO_H5_MAX_STRING_BYTES);
            status = CIO_TOO_LARGE;
            goto done;
        }
        text = malloc(total ? total : 1);
        if (!text) { status = CIO_NO_MEMORY; snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory"); goto done; }
        size_t at = 0;
        for (hssize_t i = 0; i < n; i++) {
            size_t l = strings[i] ? strlen(strings[i]) : 0;
            if (l) memcpy(text + at, strings[i], l);
            text[at + l] = 0;
            at += l + 1;
        }
    } else {
        size_t size = H5Tget_size(type);
        if (size == 0 || size > CIO_H5_MAX_STRING_BYTES || (n > 0 && (size_t)n > CIO_H5_MAX_STRING_BYTES / size)) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "attribute '%.80s' holds more than %d bytes", name, CIO_H5_MAX_STRING_BYTES);
            status = CIO_TOO_LARGE;
            goto done;
        }
        size_t raw_bytes = size * (size_t)n;
        char *raw = calloc(raw_bytes ? raw_bytes : 1, 1);
        text = malloc(raw_bytes + (size_t)n + 1);
        if (!raw || !text) {
            free(raw);
            free(text);
            status = CIO_NO_MEMORY;
            snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
            goto done;
        }
        memtype = H5Tcopy(type);
        if (memtype < 0 || (n > 0 && H5Aread(attr, memtype, raw) < 0)) {
            free(raw);
            free(text);
            status = h5_fail(message, CIO_CORRUPT, "cannot read attribute", name);
            goto done;
        }
        size_t at = 0;
        for (hssize_t i = 0; i < n; i++) {
            size_t l = strnlen(raw + (size_t)i * size, size); /* null- or space-padded, or exactly full */
            memcpy(text + at, raw + (size_t)i * size, l);
            text[at + l] = 0;
            at += l + 1;
        }
        total = at;
        free(raw);
    }
    *out = text;
    *out_length = total;
    *out_count = (uint32_t)n;
done:
    if (strings) {
        if (memtype >= 0 && space >= 0) H5Dvlen_reclaim(memtype, space, H5P_DEFAULT, strings);
        free(strings);
    }
    if (memtype >= 0) H5Tclose(memtype);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    H5Eclear2(H5E_DEFAULT);
    pthread_mutex_unlock(&h5_lock);
    return status;
}
