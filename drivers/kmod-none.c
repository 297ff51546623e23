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

int hd_module_ensure_driver(struct hd_ctx *ctx, const char *driver, const char *module)
{
    char path[HD_PATH_MAX];
    int r;

    if (!hd_name_valid(driver) || !hd_name_valid(module))
        return -EINVAL;
    hd_path(path, sizeof(path), "sys/bus/pci/drivers/%s", driver);
    if (hd_fs_exists(ctx, path) == 1)
        return 0;
    if (!ctx->root_is_host)
        return hd_err(ctx, -ENOENT, "driver %s is not loaded under %s (modules are loaded only "
                      "on the host itself)", driver, ctx->root);
    r = run_modprobe(module);
    if (r < 0)
        return hd_err(ctx, r, "driver %s is not loaded and 'modprobe %s' failed", driver,
                      module);
    if (hd_fs_wait_for(ctx, path, true, ctx->timeout_ms) < 0)
        return hd_err(ctx, -ENOENT, "module %s loaded but driver %s did not appear", module,
                      driver);
    return 0;
}

int hd_module_for_modalias(struct hd_ctx *ctx, const char *modalias, char **module)
{
    (void)ctx;
    (void)modalias;
    *module = NULL;
    return -ENOENT; /* no modules.alias reader without libkmod: the kernel picks the driver */
}
