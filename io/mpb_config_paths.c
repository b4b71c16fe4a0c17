/* Model paths: relative ones start at the config's folder, not at the
 * working directory, so that a config and its models can move together. */
#include "mpb_config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mpb_config_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup("");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    return strndup(path, n);
}

/* Drops "." segments and repeated slashes in place, so that one file named
 * two ways ("./a.h5", "a.h5") is one input; ".." stays (symlinks). */
static void tidy_path(char *path)
{
    char *out = path;
    const char *s = path;
    if (*s == '/')
        *out++ = *s++;
    char *start = out;
    while (*s != '\0') {
        size_t n = strcspn(s, "/");
        if (n > 0 && !(n == 1 && s[0] == '.')) {
            if (out > start)
                *out++ = '/';
            memmove(out, s, n);
            out += n;
        }
        s += n;
        while (*s == '/')
            s++;
    }
    if (out == path)
        *out++ = '.';
    *out = '\0';
}

char *mpb_config_join_path(const char *dir, const char *path)
{
    bool relative = path[0] != '/' && dir[0] != '\0';
    size_t n = strlen(dir) + strlen(path) + 2;
    char *joined = malloc(n);
    if (joined == NULL)
        return NULL;
    snprintf(joined, n, "%s%s%s", relative ? dir : "", relative ? "/" : "", path);
    tidy_path(joined);
    return joined;
}
