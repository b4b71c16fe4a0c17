/* realpath() */
#define _XOPEN_SOURCE 700

#include "mpb_output.h"

#include "mpb_comm.h"
#include "mpb_file.h"
#include "mpb_output_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return NULL;
    char *dir = strdup(dirname(copy));
    free(copy);
    return dir;
}

static int check_destination(const char *path, bool folder, bool force, bool follow_links,
                             mpb_error *err)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        bool is_link = S_ISLNK(st.st_mode);
        bool is_dir =
            S_ISDIR(st.st_mode) || (is_link && stat(path, &st) == 0 && S_ISDIR(st.st_mode));
        if (is_link && !follow_links)
            return mpb_fail(err, MPB_EEXIST,
                            "output '%s' is a symbolic link; refusing to write through it "
                            "(pass --follow-links to allow)",
                            path);
        if (!force)
            return mpb_fail(err, MPB_EEXIST,
                            "output '%s' already exists; pass --force to replace it", path);
        if (!is_dir && !S_ISREG(st.st_mode))
            return mpb_fail(err, MPB_EEXIST,
                            "output '%s' is %s; --force replaces only "
                            "regular files%s",
                            path, mpb_file_kind(st.st_mode),
                            folder ? " and model folders" : "");
        if (is_dir != folder)
            return mpb_fail(err, MPB_EEXIST, "output '%s' is a %s, not a %s", path,
                            is_dir ? "folder" : "file", folder ? "folder" : "file");
        if (folder && mpb_output_dir_check_replaceable(path, err) != MPB_OK)
            return err->code;
    } else if (errno != ENOENT) {
        return mpb_fail(err, MPB_EIO, "cannot check output '%s': %s", path, strerror(errno));
    }
    if (path[0] == '\0')
        return mpb_fail(err, MPB_EINVAL, "the output path is empty");
    char *dir = dir_of(path);
    if (dir == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = MPB_OK;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = mpb_fail(err, MPB_EIO, "output folder '%s' does not exist", dir);
    else if (access(dir, W_OK | X_OK) != 0)
        rc = mpb_fail(err, MPB_EIO, "output folder '%s' is not writable: %s", dir,
                      strerror(errno));
    free(dir);
    return rc;
}

static char *tmp_name_for(const char *path)
{
    char *dir = dir_of(path);
    char *copy = strdup(path);
    char *name = NULL;
    if (dir && copy) {
        const char *base = basename(copy);
        size_t len = strlen(dir) + strlen(base) + 64;
        name = malloc(len);
        if (name)
            snprintf(name, len, "%s/.%s.mpiblend-%ld-%ld.tmp", dir, base, (long)getpid(),
                     (long)time(NULL));
    }
    free(dir);
    free(copy);
    return name;
}

int mpb_output_check_inputs(const char *out_path, const char *const *inputs, size_t n,
                            mpb_error *err)
{
    struct stat st;
    if (stat(out_path, &st) != 0)
        return MPB_OK; /* nothing there yet (or a dangling link, refused later) */
    for (size_t i = 0; i < n; i++) {
        if (mpb_same_file(out_path, inputs[i]))
            return mpb_fail(err, MPB_EINVAL,
                            "output '%s' is the input '%s' (the same file "
                            "on disk); an output may never replace an input, not even with "
                            "--force",
                            out_path, inputs[i]);
        char *dir = S_ISDIR(st.st_mode) ? dir_of(inputs[i]) : NULL;
        bool inside = dir && mpb_same_file(out_path, dir);
        free(dir);
        if (inside)
            return mpb_fail(err, MPB_EINVAL,
                            "output folder '%s' holds the input '%s'; an "
                            "output may never replace an input, not even with --force",
                            out_path, inputs[i]);
    }
    return MPB_OK;
}

/* Creates and removes the temporary name once, so that a folder that
 * takes no new files (/proc, a full quota) fails now, with the system's
 * reason, rather than after the blend through a library's message. */
static void probe_create(const char *tmp, bool folder, mpb_error *err)
{
    int fd = -1;
    bool ok = folder ? mkdir(tmp, 0777) == 0
                     : (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666)) >= 0;
    if (!ok) {
        mpb_fail(err, MPB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        return;
    }
    if (folder)
        rmdir(tmp);
    else {
        close(fd);
        unlink(tmp);
    }
}

int mpb_output_begin(const char *final_path, bool force, bool follow_links, MPI_Comm comm,
                     mpb_output *out, mpb_error *err)
{
    return mpb_output_begin_as(final_path, false, force, follow_links, comm, out, err);
}

/* --follow-links: the output replaces the link's target, in the target's
 * folder, so that the rename stays atomic and the link keeps pointing at
 * the new data. */
static void follow_link(mpb_output *out, mpb_error *err)
{
    struct stat st;
    if (lstat(out->final_path, &st) != 0 || !S_ISLNK(st.st_mode))
        return;
    char *target = realpath(out->final_path, NULL);
    if (target == NULL) {
        mpb_fail(err, MPB_EIO, "cannot follow the symbolic link '%s': %s", out->final_path,
                 strerror(errno));
        return;
    }
    free(out->final_path);
    out->final_path = target;
}

int mpb_output_begin_as(const char *final_path, bool folder, bool force, bool follow_links,
                        MPI_Comm comm, mpb_output *out, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    out->final_path = strdup(final_path);
    out->tmp_path = NULL;
    out->force = force;
    out->folder = folder;
    if (out->final_path == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (rank == 0 && err->code == MPB_OK && follow_links)
        follow_link(out, err);
    if (rank == 0 && err->code == MPB_OK &&
        check_destination(out->final_path, folder, force, follow_links, err) == MPB_OK) {
        out->tmp_path = tmp_name_for(out->final_path);
        if (out->tmp_path == NULL)
            mpb_fail(err, MPB_ENOMEM, "out of memory");
        else
            probe_create(out->tmp_path, folder, err);
    }
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&out->tmp_path, 0, comm, err);
    return rc;
}

/* The rename is durable only once the folder's entry is on disk. */
static void sync_dir_of(const char *path)
{
    char *dir = dir_of(path);
    if (dir == NULL)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Moves the finished file into place.  Without --force the final name must
 * still be free: link() claims it atomically (two jobs cannot both win);
 * file systems without hard links fall back to a checked rename. */
static void publish(const mpb_output *out, mpb_error *err)
{
    if (out->folder)
        mpb_output_dir_publish(out->tmp_path, out->final_path, out->force, err);
    else if (out->force) {
        if (rename(out->tmp_path, out->final_path) != 0)
            mpb_fail(err, MPB_EIO, "cannot rename '%s' to '%s': %s", out->tmp_path,
                     out->final_path, strerror(errno));
    } else if (link(out->tmp_path, out->final_path) == 0) {
        unlink(out->tmp_path);
    } else if (errno == EEXIST) {
        mpb_fail(err, MPB_EEXIST,
                 "output '%s' appeared while mpiblend was writing; the new data is "
                 "kept at '%s'",
                 out->final_path, out->tmp_path);
    } else {
        struct stat st;
        if (lstat(out->final_path, &st) == 0)
            mpb_fail(err, MPB_EEXIST,
                     "output '%s' appeared while mpiblend was writing; "
                     "the new data is kept at '%s'",
                     out->final_path, out->tmp_path);
        else if (rename(out->tmp_path, out->final_path) != 0)
            mpb_fail(err, MPB_EIO, "cannot rename '%s' to '%s': %s", out->tmp_path,
                     out->final_path, strerror(errno));
    }
    if (err->code == MPB_OK)
        sync_dir_of(out->final_path);
}

/* Every rank flushes what it wrote: on NFS or Lustre a rank's dirty pages
 * live on its own node.  Folder outputs are synced by their backend. */
static void sync_data(const mpb_output *out, mpb_error *err)
{
    if (out->folder || out->tmp_path == NULL || err->code != MPB_OK)
        return;
    int fd = open(out->tmp_path, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0)
        mpb_fail(err, MPB_EIO, "cannot flush '%s' to disk: %s", out->tmp_path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

int mpb_output_finish(mpb_output *out, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    sync_data(out, err);
    int rc = mpb_comm_agree(err, comm);
    if (rank == 0 && out->tmp_path) {
        if (rc == MPB_OK)
            publish(out, err);
        if (err->code != MPB_OK && err->code != MPB_EEXIST && out->folder)
            mpb_output_dir_remove(out->tmp_path);
        else if (err->code != MPB_OK && err->code != MPB_EEXIST)
            unlink(out->tmp_path);
    }
    return mpb_comm_agree(err, comm);
}

void mpb_output_free(mpb_output *out)
{
    free(out->final_path);
    free(out->tmp_path);
    out->final_path = out->tmp_path = NULL;
}
