/* device-ops.c - the public one-device calls (hd_device_detach() and friends): each is an
 * operation of the engine on one device, so a library caller gets what the tools get: the
 * assignment map consulted, platform functions kept, every write journaled and undone on
 * failure, and the device's snapshot read again afterwards. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct one_device {
    enum hd_op_kind kind;
    unsigned int flags;
    const char *driver; /* NULL: the operation's default */
    unsigned int numvfs;
};

/* Run @how on @dev; *@opp (when not NULL) receives the finished operation for its report. */
static int run_one(struct hd_device *dev, const struct one_device *how, struct hd_op **opp)
{
    struct hd_op *op;
    int r = hd_op_new(hd_device_get_ctx(dev), how->kind, &op);

    if (r < 0)
        return r;
    hd_op_set_flags(op, how->flags);
    hd_op_set_numvfs(op, how->numvfs);
    if ((how->driver == NULL || (r = hd_op_set_driver(op, how->driver)) == 0) &&
        (r = hd_op_add_device(op, hd_device_get_addr(dev), true)) == 0)
        r = hd_op_run(op);
    hd_txn_refresh(dev);
    if (opp != NULL)
        *opp = op;
    else
        hd_op_unref(op);
    return r;
}

static unsigned int detach_flags(unsigned int flags)
{
    return (flags & HD_DETACH_NEW_ID ? (unsigned)HD_OP_NEW_ID : 0) |
           (flags & HD_DETACH_FORCE ? (unsigned)HD_OP_FORCE : 0) |
           (flags & HD_DETACH_NOIOMMU ? (unsigned)HD_OP_NOIOMMU : 0);
}

HD_EXPORT int hd_device_detach(struct hd_device *dev, const char *stub, unsigned int flags)
{
    const struct one_device how = {HD_OP_DETACH, detach_flags(flags), stub, 0};

    return run_one(dev, &how, NULL);
}

HD_EXPORT int hd_device_detach_group(struct hd_device *dev, const char *stub, unsigned int flags)
{
    const struct one_device how = {HD_OP_DETACH, detach_flags(flags) | HD_OP_GROUP,
                                   stub, 0};

    return run_one(dev, &how, NULL);
}

HD_EXPORT int hd_device_reattach(struct hd_device *dev)
{
    const struct one_device how = {HD_OP_REATTACH, HD_OP_NO_NOTES, NULL, 0};

    return run_one(dev, &how, NULL);
}

HD_EXPORT int hd_device_reset(struct hd_device *dev, unsigned int flags, char **methods)
{
    const struct one_device how = {HD_OP_RESET, flags & HD_RESET_FORCE ? HD_OP_FORCE : 0, NULL, 0};
    struct hd_op *op = NULL;
    int r = run_one(dev, &how, &op);

    if (methods != NULL) {
        *methods = NULL;
        for (size_t i = 0; r >= 0 && i < hd_op_get_step_count(op); i++) {
            if (strcmp(hd_op_step_get_action(op, i), "reset") == 0) {
                if ((*methods = strdup(hd_op_step_get_to(op, i))) == NULL)
                    r = -ENOMEM;
                break;
            }
        }
    }
    hd_op_unref(op);
    return r;
}

HD_EXPORT int hd_device_set_numvfs(struct hd_device *dev, unsigned int numvfs)
{
    const struct one_device how = {HD_OP_NUMVFS, 0, NULL, numvfs};
    struct hd_op *op = NULL;
    int r = run_one(dev, &how, &op);

    if (r >= 0)
        r = hd_op_get_previous_numvfs(op);
    hd_op_unref(op);
    return r;
}

HD_EXPORT int hd_device_reserve(struct hd_device *dev, const char *driver)
{
    const struct one_device how = {HD_OP_RESERVE, 0, driver, 0};
    struct hd_op *op = NULL;
    int r = run_one(dev, &how, &op);

    for (size_t i = 0; r == 0 && i < hd_op_get_step_count(op); i++) {
        if (strcmp(hd_op_step_get_action(op, i), "pending") == 0)
            r = 1;
    }
    hd_op_unref(op);
    return r;
}
