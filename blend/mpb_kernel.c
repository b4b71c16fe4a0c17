/* Picks the fastest implementation of the blend kernel the CPU supports. */
#include "mpb_kernel.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)
#define MPB_HAVE_X86_KERNELS 1
#include <cpuid.h>
#endif

struct kernel_impl {
    const char *name;
    mpb_blend_linear_fn *fn;
    bool (*usable)(void);
};

static bool always(void)
{
    return true;
}

#ifdef MPB_HAVE_X86_KERNELS
/* Register state the OS must save for the wider registers to be usable. */
enum { XCR0_SSE_AVX = 0x6 };

static bool os_saves(unsigned mask)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return false;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & mask) == mask;
}

static bool has_avx2(void)
{
    unsigned a, b, c1, d, c7;
    if (!__get_cpuid(1, &a, &b, &c1, &d) || !__get_cpuid_count(7, 0, &a, &b, &c7, &d))
        return false;
    return (c1 & bit_F16C) && (b & bit_AVX2) && os_saves(XCR0_SSE_AVX);
}
#endif

/* Worst first; the last usable one is the automatic choice. */
static const struct kernel_impl impls[] = {
    {"scalar", mpb_blend_linear_scalar, always},
#ifdef MPB_HAVE_X86_KERNELS
    {"avx2", mpb_blend_linear_avx2, has_avx2},
#endif
};
enum { N_IMPLS = sizeof impls / sizeof impls[0] };

/* -1 until first use, then the index of the implementation in force. */
static atomic_int chosen = -1;

static int best_usable(void)
{
    int best = 0;
    for (int k = 1; k < N_IMPLS; k++)
        if (impls[k].usable())
            best = k;
    return best;
}

static const struct kernel_impl *current(void)
{
    int k = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (k < 0) {
        /* Racing first calls compute the same answer. */
        k = best_usable();
        atomic_store_explicit(&chosen, k, memory_order_relaxed);
    }
    return &impls[k];
}

void mpb_blend_linear(size_t n_in, const void *const in[], mpb_dtype in_dt, const float coef[],
                      void *out, mpb_dtype out_dt, size_t n)
{
    if (n_in == 0 || !mpb_dtype_is_blendable(in_dt) || !mpb_dtype_is_blendable(out_dt))
        return;
    current()->fn(n_in, in, in_dt, coef, out, out_dt, n);
}

const char *mpb_kernel_isa(void)
{
    return current()->name;
}

const char *mpb_kernel_isa_available(size_t i)
{
    for (int k = 0; k < N_IMPLS; k++)
        if (impls[k].usable() && i-- == 0)
            return impls[k].name;
    return NULL;
}

bool mpb_kernel_force(const char *isa)
{
    if (isa == NULL) {
        atomic_store(&chosen, best_usable());
        return true;
    }
    for (int k = 0; k < N_IMPLS; k++) {
        if (!strcmp(impls[k].name, isa) && impls[k].usable()) {
            atomic_store(&chosen, k);
            return true;
        }
    }
    return false;
}

void mpb_kernel_force_scalar(bool on)
{
    mpb_kernel_force(on ? "scalar" : NULL);
}
