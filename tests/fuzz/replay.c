/* replay.c - run a fuzz target over saved inputs without libFuzzer (make check's regressions). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t size = 0, cap = 0, n;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    do {
        if (size == cap) {
            uint8_t *grown = realloc(data, cap = cap ? cap * 2 : 4096);
            if (grown == NULL) {
                free(data);
                fclose(f);
                return -1;
            }
            data = grown;
        }
        n = fread(data + size, 1, cap - size, f);
        size += n;
    } while (n > 0);
    fclose(f);
    /* A copy of exactly @size bytes, so that ASan sees a read past the input as libFuzzer does. */
    uint8_t *exact = malloc(size ? size : 1);
    if (exact == NULL) {
        free(data);
        return -1;
    }
    memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 0;
}

/* A file, or every regular file in a directory (not recursive). Returns the number replayed. */
static int replay_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int count = 0;

    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return replay_file(path) == 0 ? 1 : -1;
    if ((d = opendir(path)) == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char sub[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(sub) < 0) {
                closedir(d);
                return -1;
            }
            count++;
        }
    }
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    int total = 0;

    for (int i = 1; i < argc; i++) {
        int n = replay_path(argv[i]);
        if (n < 0)
            return 1;
        total += n;
    }
    printf("replayed %d inputs\n", total);
    return 0;
}
