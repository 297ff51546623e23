/* kmod-none.c - the libc-only twin of kmod.c (HOSTDEV_NO_KMOD=1, the static binary): a
 * missing driver is loaded by running modprobe (busybox has one in an initramfs), and only on
 * the host itself; a modalias resolves to its modules as kmod_module_new_from_lookup()
 * resolves it, on the aliases modprobe.c and modalias.c read (modalias.c's lookup). */

#include "os.h"

int hd_module_insert(struct hd_ctx *ctx, const char *module)
{
    (void)ctx;
    return hd_module_run_modprobe(module);
}

int hd_modules_for_modalias(struct hd_ctx *ctx, const char *modalias, char ***modules,
                            size_t *n)
{
    return hd_modalias_modules(ctx, modalias, modules, n);
}
