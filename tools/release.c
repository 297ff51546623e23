/* release.c - `hostdev release`: take devices back from a VM, or force one back. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "devargs.h"
#include "domain-args.h"

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"vm", required_argument, NULL, 'm'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"domain-xml", required_argument, NULL, 'x'},
                                         {NULL, 0, NULL, 0}};
    const char *vm = NULL, *domain_xml = NULL;
    struct domain_args da = {0};
    struct hd_pci_addr *addrs = NULL;
    bool force = false;
    int c, r, n;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "m:fx:", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            vm = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'x':
            domain_xml = optarg;
            break;
        default:
            tool_usage(&cmd_release, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    n = argc - optind;
    if (domain_xml != NULL) {
        if (force || n > 0)
            return tool_error(t, EXIT_USAGE, "--domain-xml gives the devices: no ADDR or --force "
                              "with it");
        if ((r = domain_args_read(t, domain_xml, &vm, &da)) != EXIT_DONE)
            return r;
    }
    if (force && (vm != NULL || n != 1))
        return tool_error(t, EXIT_USAGE, "--force takes exactly one ADDR and no --vm");
    if (!force && vm == NULL)
        return tool_error(t, EXIT_USAGE, "--vm ID is required (or --force ADDR)");
    if (vm != NULL && !hd_vm_id_valid(vm))
        return tool_error(t, EXIT_USAGE, "invalid VM id '%s' (1 to 128 of A-Z a-z 0-9 . _ : @ -)",
                          vm);
    if (domain_xml != NULL) {
        addrs = da.all; /* borrowed: freed with da */
        n = (int)da.nall;
    } else if (n > 0 && (r = devargs_parse(t, n, argv + optind, &addrs)) != EXIT_DONE) {
        return r;
    }
    hd_ctx_clear_error(t->ctx);
    r = force ? hd_assign_release_force(t->ctx, &addrs[0])
              : hd_assign_release(t->ctx, vm, addrs, (size_t)n);
    if (r < 0) {
        int code = r == -EINVAL || r == -ENOENT || r == -EPERM ? EXIT_USAGE : EXIT_FAILED;
        r = tool_lib_error(t, code, r, force ? "%s" : "vm %s", force ? argv[optind] : vm);
        if (domain_xml == NULL)
            free(addrs);
        domain_args_free(&da);
        return r;
    }
    if (force)
        printf("%s: released\n", argv[optind]);
    else
        printf("vm %s: released%s\n", vm, n ? " the devices given" : "");
    if (domain_xml == NULL)
        free(addrs);
    domain_args_free(&da);
    return EXIT_DONE;
}

const struct tool_command cmd_release = {
    .name = "release",
    .run = run,
    .usage = "--vm ID [ADDR...] | [--vm ID] --domain-xml FILE | --force ADDR",
    .summary = "take devices back from a VM (reset, reattach managed ones, restore /dev/vfio)",
    .help = "  -m, --vm ID     release this VM's devices (all of them when no ADDR is given)\n"
            "  -x, --domain-xml F  the PCI <hostdev> elements of a libvirt domain XML\n"
            "  -f, --force     emergency release of one device whatever its record says\n"
            "All or nothing: on failure the devices stay assigned as they were.\n",
};
