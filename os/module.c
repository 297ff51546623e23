/* module.c - make a driver available: present already, blacklisted, or loaded now. The
 * blacklist is modprobe.d's (modprobe.c), in either build; the backend (kmod.c with libkmod,
 * kmod-none.c without) loads modules and resolves modaliases. */
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

/* Is @module blacklisted in the root's modprobe.d? 1 yes, 0 no, -ENOMEM with a message. */
static int module_blacklisted(struct hd_ctx *ctx, const char *module)
{
    const struct hd_modprobe *mp;
    int r = hd_modprobe_get(ctx, &mp);

    return r < 0 ? r : hd_modprobe_is_blacklisted(mp, module);
}

/* @module is not in the kernel (the @kind, "driver" or "module", @name is not there): may it
 * be inserted? 0 yes, or its error. */
static int check_insertable(struct hd_ctx *ctx, const char *module, const char *kind,
                            const char *name)
{
    int r = module_blacklisted(ctx, module);

    if (r < 0)
        return r;
    if (r == 1)
        return hd_err(ctx, -EPERM, "module %s is blacklisted in modprobe.d (administratively "
                      "prohibited): remove its 'blacklist %s' line to use %s", module, module,
                      name);
    /* Inserting a module changes the running kernel: never for a fake root. */
    if (!hd_ctx_root_is_host(ctx))
        return hd_err(ctx, -ENOENT, "%s %s is not loaded under %s (modules are loaded only "
                      "on the host itself)", kind, name, hd_ctx_get_root(ctx));
    return 0;
}

int hd_module_check_driver(struct hd_ctx *ctx, const char *driver, const char *module)
{
    char path[HD_PATH_MAX];

    if (!hd_name_valid(driver) || !hd_name_valid(module))
        return -EINVAL;
    hd_path(path, sizeof(path), "sys/bus/pci/drivers/%s", driver);
    if (hd_fs_exists(ctx, path) == 1)
        return 1;
    return check_insertable(ctx, module, "driver", driver);
}

int hd_module_check_loaded(struct hd_ctx *ctx, const char *module)
{
    char path[HD_PATH_MAX];

    if (!hd_name_valid(module))
        return -EINVAL;
    hd_path(path, sizeof(path), "sys/module/%s", module);
    if (hd_fs_exists(ctx, path) == 1)
        return 1;
    return check_insertable(ctx, module, "module", module);
}

int hd_module_ensure_loaded(struct hd_ctx *ctx, const char *module)
{
    int r = hd_module_check_loaded(ctx, module);

    if (r != 0)
        return r < 0 ? r : 0;
    /* Built in without a sys/module entry: libkmod and modprobe say it is there. */
    if ((r = hd_module_insert(ctx, module)) < 0)
        return hd_err(ctx, r, "loading module %s failed: %s", module, strerror(-r));
    return 0;
}

int hd_module_for_modalias(struct hd_ctx *ctx, const char *modalias, char **module)
{
    char **modules;
    size_t n;
    int r = hd_modules_for_modalias(ctx, modalias, &modules, &n);

    *module = NULL;
    if (r < 0)
        return r;
    *module = modules[0];
    modules[0] = NULL;
    hd_strv_free(modules, n);
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
