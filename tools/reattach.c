/* reattach.c - `hostdev reattach`: give devices back to their host drivers. */
#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    return tool_run_device_op(t, argc, argv, HD_OP_REATTACH, &cmd_reattach, true);
}

const struct tool_command cmd_reattach = {
    .name = "reattach",
    .run = run,
    .usage = "ADDR... [--group] [--force] [--dry-run]",
    .summary = "return detached devices to their host drivers",
    .help = "  -g, --group     give back every endpoint of each device's IOMMU group\n"
            "  -f, --force     give back an SR-IOV PF with VFs, which its driver's unbind\n"
            "                  from vfio-pci destroys (never one a VM holds)\n"
            "      --dry-run   print the plan, change nothing\n"
            "The driver recorded when the device left its host driver is restored, or no\n"
            "driver when it had none; without a record, the one its modalias resolves to.\n"
            "One the boot reserved unbound (not probed yet) gets what the kernel binds.\n"
            "A device a VM holds is refused: release it (release --force in an emergency).\n"
            "All or nothing: if one device fails, the others are put back on their stubs.\n",
};
