/* Error values that travel up to the one place that reports them.
 *
 * Library code never prints or exits: it fills an mpb_error and returns its
 * code.  The first failure wins, so the message names the root cause, not a
 * later consequence of it. */
#ifndef MPB_ERROR_H
#define MPB_ERROR_H

#include <stddef.h>

enum {
    MPB_OK = 0,
    MPB_EINVAL = 1,   /* bad input: config, checkpoint content, arguments */
    MPB_EIO = 2,      /* a read, write, create or rename failed */
    MPB_ENOMEM = 3,   /* an allocation failed */
    MPB_EEXIST = 4,   /* output exists and --force was not given */
    MPB_EINTERNAL = 5 /* a broken invariant: a bug in mpiblend */
};

#define MPB_ERROR_MSG_MAX 1024

typedef struct mpb_error {
    int code;
    char msg[MPB_ERROR_MSG_MAX];
} mpb_error;

/* Records the failure if none is recorded yet; returns the stored code. */
int mpb_fail(mpb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes context ("while reading X: ") to an existing message. */
void mpb_error_prefix(mpb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void mpb_error_clear(mpb_error *err);

/* Short name of a code, for logs ("invalid input", "I/O error", ...). */
const char *mpb_error_kind(int code);

#endif
