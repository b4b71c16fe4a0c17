#define _GNU_SOURCE /* renameat2 */
#include "mpb_output_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int mpb_output_dir_check_replaceable(const char *path, mpb_error *err)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return mpb_fail(err, MPB_EIO, "cannot list output folder '%s': %s", path,
                        strerror(errno));
    bool empty = true, weights = false;
    char odd[256] = "";
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        empty = false;
        weights |= has_suffix(de->d_name, ".safetensors");
        struct stat st;
        if (odd[0] == '\0' &&
            (fstatat(dirfd(d), de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)))
            snprintf(odd, sizeof odd, "%s", de->d_name);
    }
    closedir(d);
    if (odd[0] != '\0')
        return mpb_fail(err, MPB_EEXIST,
                        "output '%s' holds '%s', which is not a file; refusing to replace "
                        "the folder",
                        path, odd);
    if (!empty && !weights)
        return mpb_fail(err, MPB_EEXIST,
                        "output '%s' is a folder without .safetensors files; refusing to "
                        "replace what does not look like a model",
                        path);
    return MPB_OK;
}

void mpb_output_dir_remove(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    rmdir(path);
}

/* Where the swap is unsupported: move the old folder aside, then the new
 * one in.  A crash in between leaves the old folder under `aside`. */
static void replace_by_renames(const char *tmp, const char *final, mpb_error *err)
{
    size_t len = strlen(tmp) + 8;
    char *aside = malloc(len);
    if (aside == NULL) {
        mpb_fail(err, MPB_ENOMEM, "out of memory");
        return;
    }
    snprintf(aside, len, "%s.old", tmp);
    if (rename(final, aside) != 0)
        mpb_fail(err, MPB_EIO, "cannot move '%s' aside: %s", final, strerror(errno));
    else if (rename(tmp, final) != 0) {
        mpb_fail(err, MPB_EIO, "cannot rename '%s' to '%s': %s", tmp, final, strerror(errno));
        rename(aside, final);
    } else
        mpb_output_dir_remove(aside);
    free(aside);
}

static void replace_existing(const char *tmp, const char *final, mpb_error *err)
{
    /* The folder may have changed since it was checked. */
    if (mpb_output_dir_check_replaceable(final, err) != MPB_OK) {
        mpb_error_prefix(err, "the new data is kept at '%s': ", tmp);
        return;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0)
        mpb_output_dir_remove(tmp); /* now the old folder */
    else if (errno == EINVAL || errno == ENOSYS)
        replace_by_renames(tmp, final, err);
    else
        mpb_fail(err, MPB_EIO, "cannot swap '%s' into '%s': %s", tmp, final, strerror(errno));
}

void mpb_output_dir_publish(const char *tmp, const char *final, bool force, mpb_error *err)
{
    /* RENAME_NOREPLACE claims the name atomically: two jobs cannot both win. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
        return;
    int saved = errno;
    struct stat st;
    bool exists = lstat(final, &st) == 0;
    if (exists && force)
        replace_existing(tmp, final, err);
    else if (exists)
        mpb_fail(err, MPB_EEXIST,
                 "output '%s' appeared while mpiblend was writing; the new data is kept at "
                 "'%s'",
                 final, tmp);
    else if ((saved == EINVAL || saved == ENOSYS) && rename(tmp, final) == 0)
        return;
    else
        mpb_fail(err, MPB_EIO, "cannot rename '%s' to '%s': %s", tmp, final, strerror(saved));
}
