/* malloc_count.c — LD_PRELOAD shim that counts heap calls, for "no allocation per
 * packet" checks (bench/srtp_bench.c, and any other bench that wants them).
 *
 *   cc -O2 -shared -fPIC -o /tmp/malloc_count.so bench/malloc_count.c
 *   LD_PRELOAD=/tmp/malloc_count.so ./some_bench
 *
 * The program reads the counters through dlsym(RTLD_DEFAULT, "malloc_count_get"); when the
 * shim is not preloaded the symbol is absent and the program says so. Counted: malloc,
 * calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc, pvalloc (as "allocs")
 * and free of a non-NULL pointer (as "frees"). Backed by glibc's exported __libc_* entry
 * points, so there is no dlsym(RTLD_NEXT) bootstrap problem. Counters are relaxed atomics:
 * exact for a single-threaded measured section.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern void __libc_free(void *);

static uint64_t n_alloc, n_free;

#define BUMP(c) __atomic_fetch_add(&(c), 1, __ATOMIC_RELAXED)

__attribute__((visibility("default"))) void malloc_count_get(uint64_t *allocs, uint64_t *frees)
{
    *allocs = __atomic_load_n(&n_alloc, __ATOMIC_RELAXED);
    *frees = __atomic_load_n(&n_free, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
    BUMP(n_alloc);
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    BUMP(n_alloc);
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    BUMP(n_alloc);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (p) BUMP(n_free);
    __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    BUMP(n_alloc);
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
    BUMP(n_alloc);
    return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n)
{
    BUMP(n_alloc);
    return __libc_memalign(align, n);
}

void *valloc(size_t n)
{
    BUMP(n_alloc);
    return __libc_valloc(n);
}

void *pvalloc(size_t n)
{
    BUMP(n_alloc);
    return __libc_pvalloc(n);
}
