/* hoststate.c - see hoststate.h. */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hoststate.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name uid:gid mode [content]" for each entry of ROOT/@rel, sorted. */
static size_t list_dir(struct fx *fx, const char *rel, bool content, char *out, size_t size,
                       size_t len)
{
    char *names[64], path[4096];
    size_t n = 0;
    struct dirent *de;
    DIR *d = opendir(fx_path(fx, rel));

    if (d == NULL)
        return len;
    while ((de = readdir(d)) != NULL && n < 64) {
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", rel, names[i]);
        if (stat(fx_path(fx, path), &st) == 0)
            len += (size_t)snprintf(out + len, size - len, "%s/%s %u:%u %04o", rel, names[i],
                                    (unsigned)st.st_uid, (unsigned)st.st_gid,
                                    (unsigned)(st.st_mode & 07777));
        if (content && fx_read(fx, path) != NULL)
            len += (size_t)snprintf(out + len, size - len, " %s", fx->scratch);
        len += (size_t)snprintf(out + len, size - len, "\n");
        free(names[i]);
    }
    return len;
}

static size_t attr(struct fx *fx, const char *bdf, const char *name, char *out, size_t size,
                   size_t len)
{
    char rel[160];

    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/%s", bdf, name);
    if (fx_read(fx, rel) != NULL)
        len += (size_t)snprintf(out + len, size - len, " %s=%s", name, fx->scratch);
    return len;
}

char *hs_snapshot(struct fx *fx, const char *const *devices)
{
    size_t size = 32768, len = 0;
    char *out = calloc(1, size), *map;

    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; devices[i] != NULL; i++) {
        char rel[160];
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", devices[i]);
        if (!fx_exists(fx, rel)) {
            len += (size_t)snprintf(out + len, size - len, "%s absent\n", devices[i]);
            continue;
        }
        len += (size_t)snprintf(out + len, size - len, "%s driver=%s", devices[i],
                                fx_driver(fx, devices[i]));
        len = attr(fx, devices[i], "driver_override", out, size, len);
        len = attr(fx, devices[i], "sriov_numvfs", out, size, len);
        len = attr(fx, devices[i], "sriov_drivers_autoprobe", out, size, len);
        len += (size_t)snprintf(out + len, size - len, "\n");
    }
    len = list_dir(fx, "dev/vfio", false, out, size, len);
    len = list_dir(fx, "run/hostdev/drivers", true, out, size, len);
    len = list_dir(fx, "run/hostdev/journal", false, out, size, len);
    len = list_dir(fx, "run/hostdev/damaged", false, out, size, len);
    map = fx_read(fx, "run/hostdev/map/assignments") ? strdup(fx->scratch) : strdup("");
    for (char *line = strtok(map, "\n"); line; line = strtok(NULL, "\n")) {
        char *since = strstr(line, " since=");
        if (line[0] == '#')
            continue;
        if (since != NULL)
            memmove(since, strchr(since + 1, ' '), strlen(strchr(since + 1, ' ')) + 1);
        len += (size_t)snprintf(out + len, size - len, "map %s\n", line);
    }
    free(map);
    ck_assert_uint_lt(len, size - 1);
    return out;
}

size_t hs_writes_since(struct fx *fx, const char *mark, char paths[][HS_PATH], size_t max)
{
    char *log = fx_log(fx), *start = strstr(log, mark), *save = NULL;
    size_t n = 0;

    ck_assert_ptr_nonnull(start);
    for (char *l = strtok_r(start, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "write ", 6) != 0)
            continue;
        char *sp = strchr(l + 6, ' ');
        snprintf(paths[n++], HS_PATH, "%.*s",
                 (int)(sp ? sp - (l + 6) : (long)strlen(l + 6)), l + 6);
    }
    free(log);
    return n;
}

unsigned int hs_occurrence(char paths[][HS_PATH], size_t i)
{
    unsigned int k = 0;

    for (size_t j = 0; j <= i; j++)
        k += strcmp(paths[j], paths[i]) == 0;
    return k;
}
