/* Which backend handles a path. */
#include "mpb_store.h"

#include <string.h>
#include <sys/stat.h>

static const mpb_store_ops *const backends[] = {&mpb_store_hdf5, &mpb_store_safetensors};

const mpb_store_ops *mpb_store_for_path(const char *path)
{
    static const char suffix[] = ".safetensors";
    size_t n = strlen(path), k = sizeof suffix - 1;
    struct stat st;
    bool folder = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (folder || (n >= k && strcmp(path + n - k, suffix) == 0))
        return &mpb_store_safetensors;
    return &mpb_store_hdf5;
}

const mpb_store_ops *mpb_store_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if (!strcmp(backends[i]->name, name))
            return backends[i];
    return NULL;
}

int mpb_store_flush(mpb_store *stores, size_t n, mpb_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (stores[i].ops->flush != NULL)
            stores[i].ops->flush(stores[i].handle, err);
    return err->code;
}
