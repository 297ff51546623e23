/* assign-helpers.c - plain temporary trees for the assignment tests (see assign-helpers.h),
 * built with tmptree. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assign-helpers.h"
#include "fixture.h"
#include "tmptree.h"

/* The generic parts are tmptree's; these only fail the test instead of returning errors. */
char *ah_tree(const char *spec_text)
{
    struct fx fx;
    char *root;

    ck_assert_msg(fx_materialize_text(&fx, spec_text) == 0, "materialize: %s", fx.error);
    ck_assert_ptr_nonnull(root = strdup(fx.root));
    return root;
}

void ah_tree_remove(const char *root)
{
    tmptree_remove(root);
}

void ah_write(const char *root, const char *rel, const char *content)
{
    int r = tmptree_write(root, rel, content);

    ck_assert_msg(r == 0 || (content == NULL && r == -EEXIST), "%s/%s: %s", root, rel,
                  strerror(-r));
}

void ah_symlink(const char *root, const char *rel, const char *target)
{
    char path[4096];
    int r;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    unlink(path); /* rebinding replaces the driver link */
    r = tmptree_symlink(root, rel, target);
    ck_assert_msg(r == 0, "symlink %s: %s", path, strerror(-r));
}

char *ah_read(const char *root, const char *rel)
{
    char path[4096], *data = NULL;
    size_t cap = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    if ((f = fopen(path, "r")) == NULL)
        return NULL;
    ssize_t n = getdelim(&data, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        free(data);
        return strdup("");
    }
    return data;
}

bool ah_exists(const char *root, const char *rel)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    return lstat(path, &st) == 0;
}

struct hd_ctx *ah_ctx(const char *root)
{
    struct hd_ctx *ctx;

    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
    hd_ctx_set_timeout_ms(ctx, 5000);
    return ctx;
}

struct hd_pci_addr ah_addr(const char *bdf)
{
    struct hd_pci_addr a;

    ck_assert_int_eq(hd_pci_addr_parse(bdf, &a), 0);
    return a;
}

unsigned ah_mode(const char *root, const char *rel, uid_t *uid, gid_t *gid)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
    if (uid)
        *uid = st.st_uid;
    if (gid)
        *gid = st.st_gid;
    return st.st_mode & 07777;
}

void ah_race_one_owner(int procs, int (*acquire)(void *arg, const char *vm), void *arg, int round,
                       char vm[16])
{
    pid_t pids[procs];
    int winners = 0, winner = -1;

    for (int i = 0; i < procs; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            snprintf(vm, 16, "vm-%d", i);
            int r = acquire(arg, vm);
            _exit(r == 0 ? 0 : r == -EBUSY ? 1 : 2);
        }
    }
    for (int i = 0; i < procs; i++) {
        int status;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_msg(WEXITSTATUS(status) != 2, "round %d: an unexpected failure", round);
        if (WEXITSTATUS(status) == 0) {
            winners++;
            winner = i;
        }
    }
    ck_assert_msg(winners == 1, "round %d: %d owners", round, winners);
    snprintf(vm, 16, "vm-%d", winner);
}
