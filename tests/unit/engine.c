/* engine.c - shared setup of the engine tests (see engine.h). */
#include <string.h>

#include "engine.h"

void eng_start(struct eng *e, const char *spec)
{
    int r = strchr(spec, '\n') ? fx_mount_text(&e->fx, spec) : fx_mount(&e->fx, spec);

    ck_assert_msg(r == 0, "mount %s: %s", spec, e->fx.error);
    ck_assert_int_eq(hd_ctx_new(e->fx.root, &e->ctx), 0);
    ck_assert_int_eq(hd_ctx_set_names_file(e->ctx, ""), 0);
    hd_ctx_set_timeout_ms(e->ctx, 2000);
}

void eng_stop(struct eng *e)
{
    hd_ctx_unref(e->ctx);
    e->ctx = NULL;
    fx_umount(&e->fx);
}

struct hd_device *eng_dev(struct eng *e, const char *bdf)
{
    struct hd_pci_addr addr;
    struct hd_device *dev = NULL;

    ck_assert_int_eq(hd_pci_addr_parse(bdf, &addr), 0);
    ck_assert_msg(hd_device_open(e->ctx, &addr, &dev) == 0, "open %s: %s", bdf,
                  hd_ctx_last_error(e->ctx));
    return dev;
}

size_t eng_writes(struct eng *e)
{
    return fx_log_count(&e->fx, "write ");
}

