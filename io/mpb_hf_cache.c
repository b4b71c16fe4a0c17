/* Hugging Face names resolved in the local hub cache; see mpb_hf_cache.h. */
#include "mpb_hf_cache.h"

#include "mpb_file.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ROOTS 4

static bool name_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '_' || ch == '.';
}

/* A run of name characters that is not "." or "..": length, or 0. */
static size_t name_part(const char *s)
{
    size_t n = 0;
    while (name_char(s[n]))
        n++;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return 0;
    return n;
}

/* A revision: a branch, tag or commit hash; slashes allowed (refs/pr/1),
 * "." and ".." segments not, so it cannot leave the model's folder. */
static bool revision_ok(const char *rev)
{
    if (*rev == '\0')
        return false;
    for (const char *s = rev;;) {
        size_t n = name_part(s);
        if (n == 0)
            return false;
        s += n;
        if (*s == '\0')
            return true;
        if (*s != '/')
            return false;
        s++;
    }
}

bool mpb_hf_is_model_name(const char *text)
{
    size_t org = name_part(text);
    if (org == 0 || text[org] != '/')
        return false;
    const char *model = text + org + 1;
    size_t n = name_part(model);
    if (n == 0)
        return false;
    return model[n] == '\0' || (model[n] == '@' && revision_ok(model + n + 1));
}

static void add_root(char *roots[], size_t *n, size_t max, const char *a, const char *b)
{
    if (a == NULL || *a == '\0' || *n == max)
        return;
    char *root = mpb_path_join(a, b);
    if (root == NULL)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(roots[i], root) == 0) {
            free(root);
            return;
        }
    roots[(*n)++] = root;
}

size_t mpb_hf_cache_roots(char *roots[], size_t max)
{
    size_t n = 0;
    const char *hub = getenv("HF_HUB_CACHE");
    if (hub != NULL && *hub != '\0' && n < max && (roots[n] = strdup(hub)) != NULL)
        n++;
    add_root(roots, &n, max, getenv("HF_HOME"), "hub");
    add_root(roots, &n, max, getenv("XDG_CACHE_HOME"), "huggingface/hub");
    add_root(roots, &n, max, getenv("HOME"), ".cache/huggingface/hub");
    return n;
}

void mpb_hf_cache_roots_free(char *roots[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(roots[i]);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The commit hash a ref file holds (one line), or NULL. */
static char *read_ref(const char *path)
{
    mpb_error ignored = {0};
    char *text = NULL;
    if (mpb_file_read_text(path, "ref", &text, NULL, &ignored) != MPB_OK)
        return NULL;
    size_t n = strcspn(text, " \t\r\n");
    text[n] = '\0';
    if (n == 0 || name_part(text) != n) {
        free(text);
        return NULL;
    }
    return text;
}

/* The snapshot folder of rev under one model folder, or NULL. */
static char *find_snapshot(const char *model_dir, const char *rev)
{
    char ref[4096], dir[4096];
    snprintf(ref, sizeof ref, "%s/refs/%s", model_dir, rev);
    char *hash = read_ref(ref);
    if (hash != NULL) {
        snprintf(dir, sizeof dir, "%s/snapshots/%s", model_dir, hash);
        free(hash);
        return is_dir(dir) ? strdup(dir) : NULL;
    }
    /* A commit hash written directly names its snapshot. */
    if (strchr(rev, '/') != NULL)
        return NULL;
    snprintf(dir, sizeof dir, "%s/snapshots/%s", model_dir, rev);
    return is_dir(dir) ? strdup(dir) : NULL;
}

/* "models--ORG--NAME" and the revision ("main" when not given). */
static void split_name(const char *name, char *folder, size_t folder_len, char *rev,
                       size_t rev_len, char *repo, size_t repo_len)
{
    const char *at = strchr(name, '@');
    size_t repo_n = at ? (size_t)(at - name) : strlen(name);
    snprintf(repo, repo_len, "%.*s", (int)repo_n, name);
    snprintf(rev, rev_len, "%s", at ? at + 1 : "main");
    size_t org_n = strcspn(repo, "/");
    snprintf(folder, folder_len, "models--%.*s--%s", (int)org_n, repo, repo + org_n + 1);
}

static int not_cached(const char *repo, const char *rev, const char *origin, const char *local,
                      char *roots[], size_t n, const char *folder, bool model_seen,
                      mpb_error *err)
{
    char searched[640] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof searched; i++)
        used += (size_t)snprintf(searched + used, sizeof searched - used, "%s%s/%s",
                                 i ? ", " : "", roots[i], folder);
    if (n == 0)
        snprintf(searched, sizeof searched, "none: HF_HUB_CACHE, HF_HOME and HOME are unset");
    char what[600];
    if (model_seen)
        snprintf(what, sizeof what, "is in the Hugging Face cache but not its revision '%s'",
                 rev);
    else
        snprintf(what, sizeof what, "is not in the Hugging Face cache");
    return mpb_fail(err, MPB_EINVAL,
                    "model '%s'%s%s%s is not a local path%s%s%s and %s (searched %s); mpiblend "
                    "never downloads: on a machine with network access run 'huggingface-cli "
                    "download %s --revision %s' into a cache this machine sees (HF_HUB_CACHE)",
                    repo, origin ? " (from " : "", origin ? origin : "", origin ? ")" : "",
                    local ? " ('" : "", local ? local : "", local ? "' does not exist)" : "",
                    what, searched, repo, rev);
}

int mpb_hf_cache_find(const char *name, const char *origin, const char *local, char **path,
                      mpb_error *err)
{
    *path = NULL;
    if (!mpb_hf_is_model_name(name))
        return mpb_fail(err, MPB_EINVAL,
                        "'%s' is not a Hugging Face model name (ORG/NAME or "
                        "ORG/NAME@REVISION)",
                        name);
    char folder[600], rev[512], repo[520];
    split_name(name, folder, sizeof folder, rev, sizeof rev, repo, sizeof repo);
    char *roots[MAX_ROOTS];
    size_t n = mpb_hf_cache_roots(roots, MAX_ROOTS);
    bool model_seen = false, no_memory = false;
    for (size_t i = 0; i < n && *path == NULL && !no_memory; i++) {
        char *model_dir = mpb_path_join(roots[i], folder);
        if ((no_memory = model_dir == NULL))
            break;
        if (is_dir(model_dir)) {
            model_seen = true;
            *path = find_snapshot(model_dir, rev);
        }
        free(model_dir);
    }
    int rc = *path != NULL ? MPB_OK
             : no_memory
                 ? mpb_fail(err, MPB_ENOMEM, "out of memory")
                 : not_cached(repo, rev, origin, local, roots, n, folder, model_seen, err);
    mpb_hf_cache_roots_free(roots, n);
    return rc;
}
