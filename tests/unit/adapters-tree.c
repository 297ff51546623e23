/* adapters-tree.c - the adapter tests' tree (tests/trees/adapters.spec, materialized) and
 * running commands on it. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "fixture.h"
#include "tmptree.h"

/* The asserting face of tmptree.c: a Check test stops at the first file it cannot make. */
char *at_tree_new(void)
{
    char *root = tmptree_new();

    ck_assert_msg(root != NULL, "mkdtemp: %s", strerror(errno));
    return root;
}

void at_tree_free(char *root)
{
    if (root == NULL)
        return;
    if (tmptree_remove(root) < 0)
        fprintf(stderr, "could not remove %s\n", root);
    free(root);
}

void at_bytes(const char *root, const char *path, const void *data, size_t len)
{
    int r = tmptree_write_data(root, path, data, len);

    ck_assert_msg(r == 0, "%s/%s: %s", root, path, strerror(-r));
}

void at_file(const char *root, const char *path, const char *content)
{
    at_bytes(root, path, content, strlen(content));
}

void at_link(const char *root, const char *path, const char *target)
{
    int r = tmptree_symlink(root, path, target);

    ck_assert_msg(r == 0, "symlink %s/%s: %s", root, path, strerror(-r));
}

/* tests/trees/adapters.spec, the fake kernel written as plain files into @root. */
void at_sample(const char *root)
{
    char spec[1024];
    const char *args[] = {"materialize", spec, root, NULL};
    struct fx fx = {0};

    snprintf(spec, sizeof(spec), "%s/tests/trees/adapters.spec", at_src_dir());
    ck_assert_msg(fx_fakesys(&fx, args, NULL) == 0, "materialize %s: %s", spec, fx.error);
}

char *at_root;

void at_sample_setup(void)
{
    at_root = at_tree_new();
    at_sample(at_root);
}

void at_sample_teardown(void)
{
    at_tree_free(at_root);
    at_root = NULL;
}

int at_run(const char *cmd, char **out, char **err)
{
    char errfile[] = "/tmp/hostdev-adapters-err-XXXXXX";
    char *full, buf[4096];
    size_t len = 0, cap = 0;
    char *data = NULL;
    int fd = mkstemp(errfile), status;
    FILE *p;

    ck_assert(fd >= 0);
    close(fd);
    ck_assert(asprintf(&full, "%s 2>%s", cmd, errfile) > 0);
    p = popen(full, "r");
    ck_assert(p != NULL);
    for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) {
        if (len + n + 1 > cap) {
            char *grown = realloc(data, (len + n + 1) * 2);
            ck_assert(grown != NULL);
            data = grown;
            cap = (len + n + 1) * 2;
        }
        memcpy(data + len, buf, n);
        len += n;
    }
    status = pclose(p);
    free(full);
    if (data == NULL)
        data = calloc(1, 1);
    else
        data[len] = '\0';
    if (out != NULL)
        *out = data;
    else
        free(data);
    if (err != NULL) {
        FILE *e = fopen(errfile, "r");
        size_t n = e ? fread(buf, 1, sizeof(buf) - 1, e) : 0;
        buf[n] = '\0';
        if (e != NULL)
            fclose(e);
        *err = strdup(buf);
    }
    unlink(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void at_json_check(const char *text, bool per_line)
{
    char path[] = "/tmp/hostdev-json-XXXXXX", cmd[256];
    int fd = mkstemp(path);
    FILE *f;
    char *o = NULL, *x = NULL;

    ck_assert(fd >= 0);
    f = fdopen(fd, "w");
    ck_assert(f != NULL);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; %s' %s",
             per_line ? "[json.loads(l) for l in open(sys.argv[1])]"
                      : "json.load(open(sys.argv[1]))",
             path);
    ck_assert_msg(at_run(cmd, &o, &x) == 0, "invalid JSON (%s): %s", x, text);
    free(o);
    free(x);
    unlink(path);
}

const char *at_build_dir(void)
{
    const char *b = getenv("HOSTDEV_BUILD");
    return b && b[0] ? b : "build";
}

const char *at_src_dir(void)
{
    const char *s = getenv("HOSTDEV_SRCDIR");
    return s && s[0] ? s : ".";
}

bool at_domain_validates(const char *dir, const char *hostdevs)
{
    char *path, *cmd;
    FILE *f;
    bool ok;

    ck_assert(asprintf(&path, "%s/dom.xml", dir) > 0);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fprintf(f, "<domain type='kvm'>\n  <name>vm1</name>\n  <memory>131072</memory>\n"
               "  <os>\n    <type>hvm</type>\n  </os>\n  <devices>\n%s  </devices>\n</domain>\n",
            hostdevs);
    fclose(f);
    ck_assert(asprintf(&cmd, "xmllint --noout --relaxng /usr/share/libvirt/schemas/domain.rng "
                             "'%s'", path) > 0);
    ok = at_run(cmd, NULL, NULL) == 0;
    free(cmd);
    free(path);
    return ok;
}
