/* check.c - `hostdev check`: can each device be reset, and so assigned, on its own, and the
 * devices given together to one VM? The library judges (hd_device_check_assign()); this
 * prints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"
#include "opout.h"

static const char *const scope_names[] = {
    [HD_RESET_NONE] = "none",
    [HD_RESET_FUNCTION] = "function",
    [HD_RESET_BUS] = "bus",
    [HD_RESET_BUS_SHARED] = "bus-shared",
};

/* Prints @text, the library's words (reasons joined by "; ", each naming the device it is
 * about), after @subject's line prefix: a reason about @subject says "it" ("ADDR backs /dev/sda
 * ..." as "it backs /dev/sda ...", "ADDR: enp3s0 is up" as "enp3s0 is up"), so a line names its
 * device once. Then the newline. */
static void put_about(const char *subject, const char *text)
{
    size_t len = strlen(subject);

    for (const char *p = text; *p != '\0';) {
        const char *end = strstr(p, "; ");
        size_t n = end ? (size_t)(end - p) + 2 : strlen(p);
        if (n > len + 1 && strncmp(p, subject, len) == 0 && p[len] == ' ') {
            fputs("it", stdout);
            p += len;
            n -= len;
        } else if (n > len + 2 && strncmp(p, subject, len) == 0 && p[len] == ':' &&
                   p[len + 1] == ' ') {
            p += len + 2;
            n -= len + 2;
        }
        fwrite(p, 1, n, stdout);
        p += n;
    }
    putchar('\n');
}

static void print_text(const char *name, const struct hd_reset_check *c, bool grouped)
{
    const char *m = hd_reset_check_get_methods(c);
    const char *alone = grouped ? "" : ": assignable alone";

    switch (hd_reset_check_get_scope(c)) {
    case HD_RESET_FUNCTION:
        printf("%s: can be reset on its own (methods: %s)%s\n", name, m, alone);
        break;
    case HD_RESET_BUS:
        printf("%s: only a bus reset, and it is alone on its bus%s\n", name, alone);
        break;
    case HD_RESET_NONE:
        printf("%s: cannot be reset (no reset method): a VM would get it in whatever state "
               "the last user left it\n",
               name);
        break;
    case HD_RESET_BUS_SHARED:
        printf("%s: only a bus reset, which also resets", name);
        for (size_t k = 0; k < hd_reset_check_get_peer_count(c); k++) {
            struct hd_device *p = hd_reset_check_get_peer(c, k);
            const char *drv = hd_device_get_driver(p);
            printf("%s %s (%s)", k ? "," : "", hd_device_get_name(p), drv ? drv : "unbound");
        }
        printf(": co-assign them to the same VM\n");
        break;
    }
}

/* One object per device: {address, scope, methods, assignable_alone, peers: [{address, driver,
 * host_use}], host_keeps, vm, error, host_use}; the caller adds group_members and closes it.
 * @c NULL: @dev could not be checked, for @error. */
static void print_json(struct json *j, struct hd_device *dev, const struct hd_assign_check *c,
                       const char *vm, const char *error)
{
    const struct hd_reset_check *rc = c ? hd_assign_check_get_reset(c) : NULL;

    json_begin_object(j);
    json_kv_string(j, "address", hd_device_get_name(dev));
    json_kv_string(j, "scope", rc ? scope_names[hd_reset_check_get_scope(rc)] : NULL);
    json_kv_words(j, "methods", rc ? hd_reset_check_get_methods(rc) : NULL);
    json_kv_bool(j, "assignable_alone", c && hd_assign_check_is_assignable_alone(c));
    /* on vfio in its unsafe no-IOMMU mode: no VM can have it */
    json_kv_bool(j, "noiommu", hd_group_number_is_noiommu(hd_device_get_ctx(dev),
                                                          hd_device_get_iommu_group(dev)));
    json_key(j, "peers");
    json_begin_array(j);
    for (size_t k = 0; rc && k < hd_reset_check_get_peer_count(rc); k++) {
        struct hd_device *p = hd_reset_check_get_peer(rc, k);
        json_begin_object(j);
        json_kv_string(j, "address", hd_device_get_name(p));
        json_kv_string(j, "driver", hd_device_get_driver(p));
        json_kv_string(j, "host_use", hd_assign_check_get_peer_host_use(c, k));
        json_end_object(j);
    }
    json_end_array(j);
    json_kv_string(j, "host_keeps",
                   c ? hd_assign_check_get_host_keeps(c) : hd_device_get_platform_role(dev));
    json_kv_string(j, "vm", vm);
    json_kv_string(j, "error", error);
    json_kv_string(j, "host_use", c ? hd_assign_check_get_host_use(c) : NULL);
    json_kv_string(j, "chain_held", c ? hd_assign_check_get_chain_held(c) : NULL);
}

/* The other endpoints of @dev's IOMMU group, which keep it from going to a VM alone, and what
 * the host uses of them (acquiring the group is refused for it): text, or @j's
 * "group_members". */
static void print_company(struct tool *t, const struct hd_assign_check *c, struct hd_device *dev,
                          struct json *j)
{
    if (t->json) {
        json_key(j, "group_members");
        json_begin_array(j);
    }
    for (size_t i = 0; i < hd_assign_check_get_company_count(c); i++) {
        struct hd_device *m = hd_assign_check_get_company(c, i);
        const char *role = hd_device_get_platform_role(m), *drv = hd_device_get_driver(m),
                   *use = hd_assign_check_get_company_host_use(c, i);
        if (t->json) {
            json_begin_object(j);
            json_kv_string(j, "address", hd_device_get_name(m));
            json_kv_string(j, "driver", drv);
            json_kv_string(j, "host_keeps", role);
            json_kv_string(j, "host_use", use);
            json_end_object(j);
        } else {
            printf("%s: IOMMU group %d also holds %s (%s)%s%s: not assignable alone\n",
                   hd_device_get_name(dev), hd_device_get_iommu_group(dev), hd_device_get_name(m),
                   drv ? drv : "unbound", role ? ", which the host keeps as " : "",
                   role ? role : "");
            if (use != NULL) {
                printf("%s: %s, of its IOMMU group, is in use by the host: the group is not for "
                       "a VM now (acquire --group refuses it without --force): ",
                       hd_device_get_name(dev), hd_device_get_name(m));
                put_about(hd_device_get_name(m), use);
            }
        }
    }
    if (t->json)
        json_end_array(j);
}

/* The functions @c's bus reset also resets that the host uses, one line each: the bus's
 * functions go to one VM (vfio-pci resets the bus only then), and acquiring one the host uses
 * is refused. */
static void print_peers_host_use(const char *name, const struct hd_assign_check *c)
{
    const struct hd_reset_check *rc = hd_assign_check_get_reset(c);

    for (size_t k = 0; k < hd_reset_check_get_peer_count(rc); k++) {
        const char *use = hd_assign_check_get_peer_host_use(c, k);
        if (use != NULL) {
            const char *peer = hd_device_get_name(hd_reset_check_get_peer(rc, k));
            printf("%s: %s, which its bus reset also resets, is in use by the host: not for the "
                   "same VM now (acquire refuses it without --force): ", name, peer);
            put_about(peer, use);
        }
    }
}

/* The set's verdict in JSON: {"assignable_together", "also_needs", "also_needs_host_use":
 * [{"address", "host_use"}] for the needed ones the host uses}, for the device whose object
 * is open (@c NULL: it could not be checked). */
static void print_json_together(struct json *j, const struct hd_assign_check *c)
{
    size_t needs = c ? hd_assign_check_get_need_count(c) : 0;

    json_kv_bool(j, "assignable_together", c && hd_assign_check_is_assignable_together(c));
    json_key(j, "also_needs");
    json_begin_array(j);
    for (size_t k = 0; k < needs; k++)
        json_string(j, hd_device_get_name(hd_assign_check_get_need(c, k)));
    json_end_array(j);
    json_key(j, "also_needs_host_use");
    json_begin_array(j);
    for (size_t k = 0; k < needs; k++) {
        const char *use = hd_assign_check_get_need_host_use(c, k);
        if (use == NULL)
            continue;
        json_begin_object(j);
        json_kv_string(j, "address", hd_device_get_name(hd_assign_check_get_need(c, k)));
        json_kv_string(j, "host_use", use);
        json_end_object(j);
    }
    json_end_array(j);
}

/* Why @c's device cannot go to the VM with the set, into @whyf (one "; " apart from the
 * reasons of the devices before: *@apart counts them). */
static void print_why(FILE *whyf, struct hd_device *dev, const struct hd_assign_check *c,
                      size_t *apart)
{
    const char *name = hd_device_get_name(dev);
    const char *role = hd_assign_check_get_host_keeps(c);

    if (role != NULL)
        fprintf(whyf, "%s%s is %s the host keeps", (*apart)++ ? "; " : "", name, role);
    if (hd_assign_check_get_host_use(c) != NULL)
        fprintf(whyf, "%s%s is in use by the host", (*apart)++ ? "; " : "", name);
    if (hd_reset_check_get_scope(hd_assign_check_get_reset(c)) == HD_RESET_NONE)
        fprintf(whyf, "%s%s cannot be reset", (*apart)++ ? "; " : "", name);
    if (hd_assign_check_get_chain_held(c) != NULL)
        fprintf(whyf, "%s%s", (*apart)++ ? "; " : "", hd_assign_check_get_chain_held(c));
    if (hd_assign_check_get_need_count(c) > 0) {
        fprintf(whyf, "%s%s also needs", (*apart)++ ? "; " : "", name);
        for (size_t k = 0; k < hd_assign_check_get_need_count(c); k++)
            fprintf(whyf, "%s %s%s", k ? "," : "",
                    hd_device_get_name(hd_assign_check_get_need(c, k)),
                    hd_assign_check_get_need_host_use(c, k) ? " (in use by the host)" : "");
    }
}

/* Whether @arg names a device given through its node (USB, SCSI, a mediated device). */
static bool names_other(const char *arg)
{
    char uuid[37];

    return tool_names_node(arg) || hd_mdev_uuid_parse(arg, uuid) == 0;
}

/* The devices given through their node, judged alone and with the PCI devices @devs
 * (hd_node_device_check_assign()), and with those given before them
 * (hd_node_device_check_pair()), before anything is printed: a name that is none, or a device
 * that is not there, is bad input (exit 2), as a PCI address is. */
static int judge_others(struct tool *t, int argc, char **argv, struct hd_host_use *hu,
                        struct hd_device *const *devs, size_t ndevs, struct hd_node_check **out)
{
    struct hd_node_check *v;
    size_t n = 0;
    int r;

    if ((*out = calloc((size_t)argc + 1, sizeof(**out))) == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    v = *out;
    for (int i = 0; i < argc; i++) {
        if (!names_other(argv[i]))
            continue;
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_node_device_check_assign(t->ctx, argv[i], devs, ndevs, hu, &v[n])) < 0)
            return tool_lib_error(t, tool_exit_for(t), r, "%s", argv[i]);
        for (size_t k = 0; k < n; k++) {
            if (strcmp(v[k].name, v[n].name) == 0)
                return tool_error(t, EXIT_USAGE, "%s is given twice", v[n].name);
            /* One behind another given (a stick and its SCSI disk), as acquire refuses it. */
            char *why = NULL;
            if (v[n].not_together[0] == '\0' &&
                (r = hd_node_device_check_pair(t->ctx, v[k].name, v[n].name, &why)) < 0)
                return tool_lib_error(t, tool_exit_for(t), r, "%s", argv[i]);
            if (why != NULL)
                snprintf(v[n].not_together, sizeof(v[n].not_together), "%s", why);
            free(why);
        }
        n++;
    }
    return EXIT_DONE;
}

/* A device given through its node: what a VM opens, what keeps it from one now, who holds it;
 * its reason for the set's last line into @whyf. */
static void print_other(struct tool *t, struct json *j, const struct hd_node_check *c,
                        const char *vm, FILE *whyf, size_t *apart)
{
    const char *behind = c->not_together[0] ? c->not_together : NULL;

    if (behind != NULL)
        fprintf(whyf, "%s%s", (*apart)++ ? "; " : "", behind);
    if (c->host_keeps[0])
        fprintf(whyf, "%s%s is %s the host keeps", (*apart)++ ? "; " : "", c->name,
                c->host_keeps);
    if (c->host_use[0])
        fprintf(whyf, "%s%s is in use by the host", (*apart)++ ? "; " : "", c->name);
    if (c->not_ready[0])
        fprintf(whyf, "%s%s has no node a VM can open", (*apart)++ ? "; " : "", c->name);
    if (c->chain_held[0])
        fprintf(whyf, "%s%s", (*apart)++ ? "; " : "", c->chain_held);
    if (t->json) {
        json_begin_object(j);
        json_kv_string(j, "address", c->name);
        json_kv_string(j, "node", c->node[0] ? c->node : NULL);
        json_kv_string(j, "scope", NULL);
        json_kv_words(j, "methods", NULL);
        json_kv_bool(j, "assignable_alone", c->assignable);
        json_key(j, "peers");
        json_begin_array(j);
        json_end_array(j);
        json_kv_string(j, "host_keeps", c->host_keeps[0] ? c->host_keeps : NULL);
        json_kv_string(j, "vm", vm);
        json_kv_string(j, "error", NULL);
        json_kv_string(j, "host_use", c->host_use[0] ? c->host_use : NULL);
        json_kv_string(j, "not_ready", c->not_ready[0] ? c->not_ready : NULL);
        json_kv_string(j, "chain_held", c->chain_held[0] ? c->chain_held : NULL);
        json_key(j, "group_members");
        json_begin_array(j);
        json_end_array(j);
        json_kv_bool(j, "assignable_together", c->assignable && behind == NULL);
        json_kv_string(j, "not_together", behind);
        json_key(j, "also_needs");
        json_begin_array(j);
        json_end_array(j);
        json_key(j, "also_needs_host_use");
        json_begin_array(j);
        json_end_array(j);
        json_end_object(j);
        return;
    }
    if (c->node[0])
        printf("%s: a VM opens %s%s\n", c->name, c->node,
               c->assignable ? ": assignable alone" : "");
    if (c->host_keeps[0])
        printf("%s: is %s, which the host keeps: not for a VM\n", c->name, c->host_keeps);
    if (c->host_use[0]) {
        printf("%s: in use by the host, not for a VM now (acquire refuses it without "
               "--force): ", c->name);
        put_about(c->name, c->host_use);
    }
    if (c->not_ready[0]) {
        printf("%s: not for a VM now: ", c->name);
        put_about(c->name, c->not_ready);
    }
    if (c->chain_held[0]) {
        printf("%s: not for a VM now: ", c->name);
        put_about(c->name, c->chain_held);
    }
    if (vm != NULL)
        printf("%s: assigned to vm %s\n", c->name, vm);
    if (behind != NULL) {
        printf("%s: not with the devices given: ", c->name);
        put_about(c->name, behind);
    }
}

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    struct hd_assignment_list *map = NULL;
    struct hd_host_use *host_use = NULL;
    struct json j;
    int r, status = EXIT_DONE;
    size_t n, nwhy = 0, apart = 0;
    char *why = NULL;
    FILE *whyf;

    struct hd_node_check *others = NULL;
    char **pci_args;
    int first, npci = 0;
    if ((r = tool_operands_only(t, &cmd_check, argc, argv, &first)) != EXIT_DONE)
        return r;
    argc -= first, argv += first;
    if (argc < 1)
        return tool_error(t, EXIT_USAGE, "no device given (an address such as 0000:03:00.0, "
                          "a mediated device's UUID, usb_BUS_PORT or scsi_H_B_T_L)");
    /* The PCI devices are opened together (one set); the others are judged by their node. */
    if ((pci_args = calloc((size_t)argc, sizeof(*pci_args))) == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (int i = 0; i < argc; i++) {
        if (!names_other(argv[i]))
            pci_args[npci++] = argv[i];
    }
    devs = NULL;
    n = 0;
    r = npci > 0 ? devargs_open(t, npci, pci_args, &devs, &n) : EXIT_DONE;
    free(pci_args);
    if (r != EXIT_DONE)
        return r;
    /* A bridge is no VM's whatever its reset (detach and acquire refuse it as bad input): the
     * question has no answer for it. */
    for (size_t i = 0; i < n; i++) {
        int e = hd_device_check_endpoint(devs[i], "it cannot be assigned to a VM (check the "
                                                  "endpoints behind it)");
        if (e < 0) {
            r = tool_lib_error(t, EXIT_USAGE, e, "%s", hd_device_get_name(devs[i]));
            devargs_free(devs, n);
            return r;
        }
    }
    /* A device a VM holds is said to be held, as list and show say it; what the host uses is
     * read once for all the devices. */
    if ((r = hd_assignment_list_new(t->ctx, &map)) < 0) {
        devargs_free(devs, n);
        return tool_lib_error(t, tool_exit_for(t), r, "reading the assignments");
    }
    if ((r = hd_host_use_new(t->ctx, &host_use)) < 0) {
        hd_assignment_list_unref(map);
        devargs_free(devs, n);
        return tool_lib_error(t, EXIT_FAILED, r, "check");
    }
    if ((r = judge_others(t, argc, argv, host_use, devs, n, &others)) != EXIT_DONE) {
        free(others);
        hd_host_use_unref(host_use);
        hd_assignment_list_unref(map);
        devargs_free(devs, n);
        return r;
    }
    /* Several devices are judged as one set (what a user co-assigning them asks): why they
     * cannot go to a VM together, one reason a device, for the last line. */
    if ((whyf = open_memstream(&why, &nwhy)) == NULL) {
        free(others);
        hd_host_use_unref(host_use);
        hd_assignment_list_unref(map);
        devargs_free(devs, n);
        return tool_lib_error(t, EXIT_FAILED, -ENOMEM, "check");
    }
    if (t->json) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t arg = 0, i = 0, k = 0; arg < (size_t)argc; arg++) {
        if (names_other(argv[arg])) {
            const struct hd_node_check *c = &others[k++];
            char uuid[37];
            const struct hd_assignment *held =
                hd_mdev_uuid_parse(c->name, uuid) == 0 ? hd_assignment_list_find_mdev(map, uuid)
                                                       : hd_assignment_list_find_name(map, c->name);
            if ((!c->assignable || c->not_together[0]) && status == EXIT_DONE)
                status = EXIT_FAILED;
            print_other(t, &j, c, held ? hd_assignment_get_vm(held) : NULL, whyf, &apart);
            continue;
        }
        /* devargs_open() gave one device a PCI argument, in their order. */
        struct hd_device *dev = i < n ? devs[i++] : NULL;
        if (dev == NULL)
            continue;
        const char *name = hd_device_get_name(dev);
        const struct hd_assignment *held =
            hd_assignment_list_find(map, hd_device_get_addr(dev));
        const char *vm = held ? hd_assignment_get_vm(held) : NULL;
        struct hd_assign_check *c = NULL;
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_device_check_assign(dev, devs, n, host_use, &c)) < 0) {
            /* Bad sysfs contents (read again here) are bad input, as when opening it: exit 2,
             * whatever the other devices say; a failed read is exit 1. */
            int code = tool_lib_error(t, tool_exit_for(t), r, "%s", name);
            status = code > status ? code : status;
            fprintf(whyf, "%s%s could not be checked", apart++ ? "; " : "", name);
            if (t->json) {
                print_json(&j, dev, NULL, vm, hd_ctx_last_error(t->ctx));
                print_json_together(&j, NULL);
                json_end_object(&j);
            }
            continue;
        }
        const char *role = hd_assign_check_get_host_keeps(c),
                   *use = hd_assign_check_get_host_use(c),
                   *chain = hd_assign_check_get_chain_held(c);
        if (!hd_assign_check_is_assignable_together(c) && status == EXIT_DONE)
            status = EXIT_FAILED;
        print_why(whyf, dev, c, &apart);
        if (t->json)
            print_json(&j, dev, c, vm, NULL);
        else
            print_text(name, hd_assign_check_get_reset(c), !hd_assign_check_is_assignable_alone(c));
        if (!t->json && role != NULL)
            printf("%s: is %s, which the host keeps: not for a VM\n", name, role);
        /* As acquire refuses it: VFIO takes only a device in an IOMMU group. */
        int group = hd_device_get_iommu_group(dev);
        if (!t->json && group < 0)
            printf("%s: has no IOMMU group: the IOMMU is off or absent, so no VM can have it "
                   "(hostdev iommu says why)%s\n", name, hd_vfio_noiommu_mode(t->ctx)
                   ? "; vfio's unsafe no-IOMMU mode is on: detach --noiommu gives it to a "
                     "user-space driver such as DPDK, without DMA isolation" : "");
        else if (!t->json && hd_group_number_is_noiommu(t->ctx, group))
            printf("%s: is a no-IOMMU device (vfio's unsafe no-IOMMU mode, /dev/vfio/noiommu-%d: "
                   "no DMA isolation): for user-space drivers such as DPDK; QEMU cannot assign "
                   "it to a VM\n", name, group);
        /* As acquire refuses it, and what takes it anyway. */
        if (!t->json && use != NULL) {
            printf("%s: in use by the host, not for a VM now (acquire refuses it without "
                   "--force): ", name);
            put_about(name, use);
        }
        if (!t->json && chain != NULL) {
            printf("%s: not for a VM now: ", name);
            put_about(name, chain);
        }
        if (!t->json && vm != NULL)
            printf("%s: assigned to vm %s\n", name, vm);
        if (!t->json)
            print_peers_host_use(name, c);
        print_company(t, c, dev, t->json ? &j : NULL);
        if (t->json) {
            print_json_together(&j, c);
            json_end_object(&j);
        }
        hd_assign_check_unref(c);
    }
    fclose(whyf);
    if (t->json) {
        json_end_array(&j);
        json_finish(&j);
    } else if (argc > 1) {
        if (apart == 0)
            printf("the %d devices given: assignable together, to one VM\n", argc);
        else
            printf("the %d devices given: not assignable together: %s\n", argc, why);
    }
    free(why);
    free(others);
    hd_host_use_unref(host_use);
    hd_assignment_list_unref(map);
    devargs_free(devs, n);
    return status;
}

const struct tool_command cmd_check = {
    .name = "check",
    .run = run,
    .takes = TOOL_TAKES_ANY,
    .usage = "ADDR...",
    .summary = "whether devices can be reset (and assigned) alone or need company",
    .help = "A device is assignable alone when it can be reset on its own and its IOMMU group\n"
            "holds no other endpoint (VFIO gives a group to one VM whole); members the host\n"
            "keeps (host/ISA bridges, SMBus, ...) are named; so is the VM that holds one.\n"
            "A device the host uses (a mounted disk, an interface up with routes, the\n"
            "console) is not for a VM now: acquire refuses it without --force, and why;\n"
            "so is an SR-IOV PF with VFs (detaching it would destroy them),\n"
            "a group whose other endpoint the host uses (acquire --group refuses it),\n"
            "a function its bus reset also resets that the host uses,\n"
            "and a device with one behind it that a VM holds (acquire refuses it).\n"
            "Several devices are also judged as one set, to go to one VM together: a last\n"
            "line says whether they can, or what each still needs beside them.\n"
            "A USB or SCSI device (usb_BUS_PORT, usb:VVVV:PPPP[:SERIAL], scsi_H_B_T_L) or a\n"
            "mediated device (its UUID) goes through its node: the host's keyboard or a hub,\n"
            "storage the host uses, a SCSI device without dev/sgN and a mediated device with\n"
            "no IOMMU group are not for a VM now; nor is a PCI device without an IOMMU\n"
            "group (the IOMMU off). A bridge is no VM's at all (exit 2).\n"
            "Exit 0 when the devices given can go to a VM together (one: it is assignable\n"
            "alone), 1 otherwise (or when a group's members cannot be read), 2 when the sysfs\n"
            "contents of a device or of a member of its group are what the kernel would not\n"
            "write (bad input).\n",
};
