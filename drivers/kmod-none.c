/* kmod-none.c - the libc-only twin of kmod.c: a missing driver is loaded by running
 * modprobe (busybox has one in an initramfs), and only on the host itself. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

static int run_modprobe(const char *module)
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        execlp("modprobe", "modprobe", "-q", "--", module, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOENT;
}

int hd_module_blacklisted(struct hd_ctx *ctx, const char *module)
{
    (void)ctx;
    (void)module;
    return 0; /* no modprobe.d reader here; modprobe itself honours what applies */
}

int hd_module_insert(struct hd_ctx *ctx, const char *module)
{
    (void)ctx;
    return run_modprobe(module);
}

int hd_module_for_modalias(struct hd_ctx *ctx, const char *modalias, char **module)
{
    (void)ctx;
    (void)modalias;
    *module = NULL;
    return -ENOENT; /* no modules.alias reader without libkmod: the kernel picks the driver */
}
