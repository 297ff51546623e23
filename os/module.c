/* module.c - make a driver available: present already, blacklisted, or loaded now. The
 * backend (kmod.c with libkmod, kmod-none.c without) answers the module questions. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.h"

int hd_module_run_modprobe(const char *module)
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

int hd_module_check_driver(struct hd_ctx *ctx, const char *driver, const char *module)
{
    char path[HD_PATH_MAX];

    if (!hd_name_valid(driver) || !hd_name_valid(module))
        return -EINVAL;
    hd_path(path, sizeof(path), "sys/bus/pci/drivers/%s", driver);
    if (hd_fs_exists(ctx, path) == 1)
        return 1;
    if (hd_module_blacklisted(ctx, module) == 1)
        return hd_err(ctx, -EPERM, "module %s is blacklisted in modprobe.d (administratively "
                      "prohibited): remove its 'blacklist %s' line to use %s", module, module,
                      driver);
    /* Inserting a module changes the running kernel: never for a fake root. */
    if (!hd_ctx_root_is_host(ctx))
        return hd_err(ctx, -ENOENT, "driver %s is not loaded under %s (modules are loaded only "
                      "on the host itself)", driver, hd_ctx_get_root(ctx));
    return 0;
}

int hd_module_ensure_driver(struct hd_ctx *ctx, const char *driver, const char *module)
{
    char path[HD_PATH_MAX];
    int r = hd_module_check_driver(ctx, driver, module);

    if (r != 0)
        return r < 0 ? r : 0;
    r = hd_module_insert(ctx, module);
    if (r < 0)
        return hd_err(ctx, r, "driver %s is not loaded and loading module %s failed: %s", driver,
                      module, strerror(-r));
    hd_path(path, sizeof(path), "sys/bus/pci/drivers/%s", driver);
    if (hd_fs_wait_for(ctx, path, true, hd_ctx_get_timeout_ms(ctx)) < 0)
        return hd_err(ctx, -ENOENT, "module %s loaded but driver %s did not appear", module,
                      driver);
    return 0;
}
