#include "mpb_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mpb_fail(mpb_error *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    if (err->code != MPB_OK)
        return err->code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void mpb_error_prefix(mpb_error *err, const char *fmt, ...)
{
    if (err == NULL || err->code == MPB_OK)
        return;
    char prefix[MPB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Keep the prefix whole and cut the old message's tail if it must. */
    size_t plen = strlen(prefix);
    if (plen >= sizeof err->msg)
        plen = sizeof err->msg - 1;
    memmove(err->msg + plen, err->msg, sizeof err->msg - plen - 1);
    memcpy(err->msg, prefix, plen);
    err->msg[sizeof err->msg - 1] = '\0';
}

void mpb_error_clear(mpb_error *err)
{
    err->code = MPB_OK;
    err->msg[0] = '\0';
}

const char *mpb_error_kind(int code)
{
    switch (code) {
    case MPB_OK: return "ok";
    case MPB_EINVAL: return "invalid input";
    case MPB_EIO: return "I/O error";
    case MPB_ENOMEM: return "out of memory";
    case MPB_EEXIST: return "output exists";
    default: return "internal error";
    }
}
