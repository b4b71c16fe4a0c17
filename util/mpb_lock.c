/* kill(), gethostname(), fsync() */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include "mpb_lock.h"

#include "mpb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEXT_MAX 1024

struct holder {
    char host[256];
    long pid;
    unsigned long long process_start; /* clock ticks after boot; 0: unknown */
    char started[64];
};

/* From /proc/PID/stat: field 3, the state ('Z': exited, not yet reaped),
 * and field 22, the start time, which tells a reused PID from the holder.
 * False where /proc does not say. */
static bool process_info(long pid, char *state, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL || sscanf(p + 1, " %c", state) != 1)
        return false;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p && sscanf(p + 1, "%llu", start) == 1;
}

static unsigned long long process_start(long pid)
{
    char state;
    unsigned long long start = 0;
    return process_info(pid, &state, &start) ? start : 0;
}

static void this_host(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0)
        snprintf(buf, len, "unknown");
    buf[len - 1] = '\0';
}

static void describe_self(char *text, size_t len)
{
    char host[256], started[64];
    this_host(host, sizeof host);
    time_t now = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    long pid = (long)getpid();
    snprintf(text, len, "host: %s\npid: %ld\nprocess_start: %llu\nstarted: %s\n", host, pid,
             process_start(pid), started);
}

static bool read_holder(const char *path, char *text, size_t len, struct holder *h)
{
    memset(h, 0, sizeof *h);
    text[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(text, 1, len - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p;
    if ((p = strstr(text, "host: ")) != NULL)
        sscanf(p, "host: %255s", h->host);
    if ((p = strstr(text, "pid: ")) != NULL)
        sscanf(p, "pid: %ld", &h->pid);
    if ((p = strstr(text, "process_start: ")) != NULL)
        sscanf(p, "process_start: %llu", &h->process_start);
    if ((p = strstr(text, "started: ")) != NULL)
        sscanf(p, "started: %63s", h->started);
    return h->host[0] != '\0' && h->pid > 0;
}

/* Only a holder on this host can be proven gone. */
static bool stale(const struct holder *h)
{
    char host[256];
    this_host(host, sizeof host);
    if (strcmp(host, h->host) != 0)
        return false;
    if (kill((pid_t)h->pid, 0) != 0 && errno == ESRCH)
        return true;
    char state;
    unsigned long long now = 0;
    if (!process_info(h->pid, &state, &now))
        return false;
    return state == 'Z' || state == 'X' || (h->process_start != 0 && now != h->process_start);
}

static char *sibling(const char *lock_path, const char *what)
{
    char host[256];
    this_host(host, sizeof host);
    size_t len = strlen(lock_path) + strlen(what) + strlen(host) + 48;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s.%s.%s.%ld", lock_path, what, host, (long)getpid());
    return p;
}

static int write_candidate(const char *path, const char *text, mpb_error *err)
{
    unlink(path); /* ours by name: host and PID */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0)
        return mpb_fail(err, MPB_EIO, "cannot create lock file '%s': %s", path,
                        strerror(errno));
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(path);
        return mpb_fail(err, MPB_EIO, "cannot write lock file '%s': %s", path, strerror(saved));
    }
    return MPB_OK;
}

/* link() either creates the lock or fails; over NFS a lost reply can
 * report failure after success, which the link count reveals. */
static bool claim(const char *candidate, const char *lock_path)
{
    if (link(candidate, lock_path) == 0)
        return true;
    struct stat st;
    return errno != EEXIST && stat(candidate, &st) == 0 && st.st_nlink == 2;
}

/* Moves a stale lock aside, checking that what moved is what was judged
 * stale (another job may have reclaimed it first and taken it). */
static bool reclaim(const char *lock_path, const char *judged, void (*note)(const char *),
                    const struct holder *h)
{
    char *aside = sibling(lock_path, "stale");
    if (aside == NULL || rename(lock_path, aside) != 0) {
        free(aside);
        return false;
    }
    char text[TEXT_MAX];
    struct holder moved;
    read_holder(aside, text, sizeof text, &moved);
    if (strcmp(text, judged) != 0) {
        /* A live lock, not ours to remove: put it back where it was. */
        if (link(aside, lock_path) == 0 || errno == EEXIST)
            unlink(aside);
        free(aside);
        return false;
    }
    unlink(aside);
    free(aside);
    if (note) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "removed the stale lock '%s' of PID %ld on %s (started %s), "
                 "which is no longer running",
                 lock_path, h->pid, h->host, h->started);
        note(msg);
    }
    return true;
}

int mpb_lock_take(mpb_lock *lock, const char *dir, void (*note)(const char *msg),
                  mpb_error *err)
{
    memset(lock, 0, sizeof *lock);
    char *path = mpb_path_join(dir, MPB_LOCK_NAME);
    char *candidate = path ? sibling(path, "new") : NULL;
    char *text = malloc(TEXT_MAX);
    if (path == NULL || candidate == NULL || text == NULL) {
        free(path);
        free(candidate);
        free(text);
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    describe_self(text, TEXT_MAX);
    int rc = write_candidate(candidate, text, err);
    bool held = false;
    for (int attempt = 0; rc == MPB_OK && !held && attempt < 4; attempt++) {
        if ((held = claim(candidate, path)))
            break;
        if (errno != EEXIST) {
            rc = mpb_fail(err, MPB_EIO, "cannot create lock file '%s': %s", path,
                          strerror(errno));
            break;
        }
        char other[TEXT_MAX];
        struct holder h;
        bool known = read_holder(path, other, sizeof other, &h);
        if (known && stale(&h) && reclaim(path, other, note, &h))
            continue;
        if (known && !stale(&h))
            rc = mpb_fail(err, MPB_EEXIST,
                          "'%s' is in use: locked by PID %ld on host %s "
                          "since %s (%s). If that job is no longer running, remove the "
                          "lock file and rerun",
                          dir, h.pid, h.host, h.started, path);
        else if (!known && access(path, F_OK) == 0)
            rc = mpb_fail(err, MPB_EEXIST,
                          "'%s' is locked, but its lock file '%s' names "
                          "no holder; if no job is writing there, remove it and rerun",
                          dir, path);
    }
    if (rc == MPB_OK && !held)
        rc = mpb_fail(err, MPB_EEXIST,
                      "cannot take the lock '%s': other jobs keep taking "
                      "it",
                      path);
    unlink(candidate);
    free(candidate);
    if (rc == MPB_OK) {
        lock->path = path;
        lock->text = text;
        return MPB_OK;
    }
    free(path);
    free(text);
    return rc;
}

void mpb_lock_release(mpb_lock *lock)
{
    if (lock->path) {
        char text[TEXT_MAX];
        struct holder h;
        read_holder(lock->path, text, sizeof text, &h);
        if (strcmp(text, lock->text) == 0)
            unlink(lock->path);
    }
    free(lock->path);
    free(lock->text);
    lock->path = lock->text = NULL;
}
