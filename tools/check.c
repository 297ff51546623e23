/* check.c - `hostdev check`: can each device be reset, and so assigned, on its own, and the
 * devices given together to one VM? */
#include <errno.h>
#include <stdlib.h>

#include "devargs.h"
#include "opout.h"

static const char *const scope_names[] = {
    [HD_RESET_NONE] = "none",
    [HD_RESET_FUNCTION] = "function",
    [HD_RESET_BUS] = "bus",
    [HD_RESET_BUS_SHARED] = "bus-shared",
};

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

/* One object per device: {address, scope, methods, assignable_alone, peers, host_keeps, vm,
 * error}; the caller adds group_members and closes it. @grouped: not alone (group company, or
 * the host keeps it as @role). */
static void print_json(struct json *j, const char *name, const struct hd_reset_check *c,
                       const char *role, const char *vm, const char *error, bool grouped)
{
    enum hd_reset_scope scope = c ? hd_reset_check_get_scope(c) : HD_RESET_NONE;

    json_begin_object(j);
    json_kv_string(j, "address", name);
    json_kv_string(j, "scope", c ? scope_names[scope] : NULL);
    json_kv_words(j, "methods", c ? hd_reset_check_get_methods(c) : NULL);
    json_kv_bool(j, "assignable_alone",
                 c && !grouped && (scope == HD_RESET_FUNCTION || scope == HD_RESET_BUS));
    json_key(j, "peers");
    json_begin_array(j);
    for (size_t k = 0; c && k < hd_reset_check_get_peer_count(c); k++) {
        struct hd_device *p = hd_reset_check_get_peer(c, k);
        json_begin_object(j);
        json_kv_string(j, "address", hd_device_get_name(p));
        json_kv_string(j, "driver", hd_device_get_driver(p));
        json_end_object(j);
    }
    json_end_array(j);
    json_kv_string(j, "host_keeps", role);
    json_kv_string(j, "vm", vm);
    json_kv_string(j, "error", error);
}

/* Whether @m, a member of @dev's IOMMU group, is another endpoint (bridges do not count). */
static bool is_company(struct hd_device *m, struct hd_device *dev)
{
    return hd_device_is_assignable(m) &&
           !hd_pci_addr_equal(hd_device_get_addr(m), hd_device_get_addr(dev));
}

/* Whether @g (@dev's IOMMU group, NULL: none) holds another endpoint. */
static bool has_group_company(const struct hd_group *g, struct hd_device *dev)
{
    bool company = false;

    for (size_t k = 0; g != NULL && k < hd_group_get_member_count(g); k++)
        company = company || is_company(hd_group_get_member(g, k), dev);
    return company;
}

/* The other endpoints of @dev's IOMMU group @g (NULL: it has none): VFIO hands a group to one
 * VM whole, so a function is assignable alone only when its group holds no other. Prints them
 * (text, or @j's "group_members"). */
static void check_group(struct tool *t, const struct hd_group *g, struct hd_device *dev,
                        struct json *j)
{
    int number = hd_device_get_iommu_group(dev);

    if (t->json) {
        json_key(j, "group_members");
        json_begin_array(j);
    }
    if (g != NULL) {
        for (size_t i = 0; i < hd_group_get_member_count(g); i++) {
            struct hd_device *m = hd_group_get_member(g, i);
            const char *role = hd_device_get_platform_role(m), *drv = hd_device_get_driver(m);
            if (!is_company(m, dev))
                continue;
            if (t->json) {
                json_begin_object(j);
                json_kv_string(j, "address", hd_device_get_name(m));
                json_kv_string(j, "driver", drv);
                json_kv_string(j, "host_keeps", role);
                json_end_object(j);
            } else {
                printf("%s: IOMMU group %d also holds %s (%s)%s%s: not assignable alone\n",
                       hd_device_get_name(dev), number, hd_device_get_name(m),
                       drv ? drv : "unbound", role ? ", which the host keeps as " : "",
                       role ? role : "");
            }
        }
    }
    if (t->json)
        json_end_array(j);
}

/* Whether @m is one of the @n devices given. */
static bool is_given(struct hd_device *const *devs, size_t n, struct hd_device *m)
{
    for (size_t k = 0; k < n; k++)
        if (hd_pci_addr_equal(hd_device_get_addr(devs[k]), hd_device_get_addr(m)))
            return true;
    return false;
}

/* Add @m to @needs (its @count so far) unless it is given or there already. */
static void add_need(struct hd_device **needs, size_t *count, struct hd_device *const *devs,
                     size_t n, struct hd_device *m)
{
    for (size_t k = 0; k < *count; k++)
        if (hd_pci_addr_equal(hd_device_get_addr(needs[k]), hd_device_get_addr(m)))
            return;
    if (!is_given(devs, n, m))
        needs[(*count)++] = m;
}

/* What @dev must go to its VM with that is not among the @n devices given: the other
 * endpoints of its IOMMU group @g (VFIO gives a group to one VM whole) and the functions its
 * bus reset (@c) also resets. Given together, a GPU and its audio function need nothing more.
 * An array of *@count devices (borrowed from @g and @c), NULL when out of memory. */
static struct hd_device **find_needs(const struct hd_group *g, const struct hd_reset_check *c,
                                     struct hd_device *dev, struct hd_device *const *devs, size_t n,
                                     size_t *count)
{
    size_t members = g ? hd_group_get_member_count(g) : 0, peers = hd_reset_check_get_peer_count(c);
    struct hd_device **needs = calloc(members + peers + 1, sizeof(*needs));

    *count = 0;
    for (size_t k = 0; needs != NULL && k < members; k++)
        if (is_company(hd_group_get_member(g, k), dev))
            add_need(needs, count, devs, n, hd_group_get_member(g, k));
    for (size_t k = 0; needs != NULL && k < peers; k++)
        add_need(needs, count, devs, n, hd_reset_check_get_peer(c, k));
    return needs;
}

/* The set's verdict in JSON: {"assignable_together", "also_needs"}, for the device whose
 * object is open. */
static void print_json_together(struct json *j, bool together, struct hd_device *const *needs,
                                size_t count)
{
    json_kv_bool(j, "assignable_together", together);
    json_key(j, "also_needs");
    json_begin_array(j);
    for (size_t k = 0; k < count; k++)
        json_string(j, hd_device_get_name(needs[k]));
    json_end_array(j);
}

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    struct hd_assignment_list *map = NULL;
    struct json j;
    int r, status = EXIT_DONE;
    size_t n, nwhy = 0, apart = 0;
    char *why = NULL;
    FILE *whyf;

    if ((r = devargs_open(t, argc - 1, argv + 1, &devs, &n)) != EXIT_DONE)
        return r;
    /* A device a VM holds is said to be held, as list and show say it. */
    if ((r = hd_assignment_list_new(t->ctx, &map)) < 0) {
        devargs_free(devs, n);
        return tool_lib_error(t, tool_exit_for(t), r, "reading the assignments");
    }
    /* Several devices are judged as one set (what a user co-assigning them asks): why they
     * cannot go to a VM together, one reason a device, for the last line. */
    if ((whyf = open_memstream(&why, &nwhy)) == NULL) {
        hd_assignment_list_unref(map);
        devargs_free(devs, n);
        return tool_lib_error(t, EXIT_FAILED, -ENOMEM, "check");
    }
    if (t->json) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = hd_device_get_name(devs[i]);
        int number = hd_device_get_iommu_group(devs[i]);
        const struct hd_assignment *held =
            hd_assignment_list_find(map, hd_device_get_addr(devs[i]));
        const char *vm = held ? hd_assignment_get_vm(held) : NULL;
        /* A platform function is no VM's, whatever its reset and group say (acquire refuses
         * it as the host's). */
        const char *role = hd_device_get_platform_role(devs[i]);
        struct hd_reset_check *c = NULL;
        struct hd_group *g = NULL;
        hd_ctx_clear_error(t->ctx);
        r = hd_device_check_reset(devs[i], &c);
        /* Its group decides "assignable alone": one that cannot be read (a member's bad sysfs
         * contents, a read that fails) leaves the question open, and is said. */
        if (r == 0 && number >= 0 && (r = hd_group_open(t->ctx, number, &g)) < 0) {
            hd_reset_check_unref(c);
            c = NULL;
        }
        if (r < 0) {
            /* Bad sysfs contents (read again here) are bad input, as when opening it: exit 2,
             * whatever the other devices say; a failed read is exit 1. */
            int code = tool_lib_error(t, tool_exit_for(t), r, "%s", name);
            status = code > status ? code : status;
            fprintf(whyf, "%s%s could not be checked", apart++ ? "; " : "", name);
            if (t->json) {
                print_json(&j, name, NULL, role, vm, hd_ctx_last_error(t->ctx), false);
                print_json_together(&j, false, NULL, 0);
                json_end_object(&j);
            }
            continue;
        }
        enum hd_reset_scope scope = hd_reset_check_get_scope(c);
        size_t nneeds;
        struct hd_device **needs = find_needs(g, c, devs[i], devs, n, &nneeds);
        if (needs == NULL) {
            hd_group_unref(g);
            hd_reset_check_unref(c);
            status = tool_lib_error(t, EXIT_FAILED, -ENOMEM, "%s", name);
            break;
        }
        /* Alone, or with what it needs among the devices given; one without any reset stays
         * a "no" (a VM would get it as the last user left it). */
        bool together = scope != HD_RESET_NONE && nneeds == 0 && role == NULL;
        if (!together && status == EXIT_DONE)
            status = EXIT_FAILED;
        if (role != NULL)
            fprintf(whyf, "%s%s is %s the host keeps", apart++ ? "; " : "", name, role);
        if (scope == HD_RESET_NONE)
            fprintf(whyf, "%s%s cannot be reset", apart++ ? "; " : "", name);
        if (nneeds > 0) {
            fprintf(whyf, "%s%s also needs", apart++ ? "; " : "", name);
            for (size_t k = 0; k < nneeds; k++)
                fprintf(whyf, "%s %s", k ? "," : "", hd_device_get_name(needs[k]));
        }
        /* Whether it has group company decides "assignable alone", which comes first. */
        bool grouped = has_group_company(g, devs[i]) || role != NULL;
        if (t->json)
            print_json(&j, name, c, role, vm, NULL, grouped);
        else
            print_text(name, c, grouped);
        if (!t->json && role != NULL)
            printf("%s: is %s, which the host keeps: not for a VM\n", name, role);
        if (!t->json && vm != NULL)
            printf("%s: assigned to vm %s\n", name, vm);
        check_group(t, g, devs[i], t->json ? &j : NULL);
        if (t->json) {
            print_json_together(&j, together, needs, nneeds);
            json_end_object(&j);
        }
        free(needs);
        hd_group_unref(g);
        hd_reset_check_unref(c);
    }
    fclose(whyf);
    if (t->json) {
        json_end_array(&j);
        json_finish(&j);
    } else if (n > 1) {
        if (apart == 0)
            printf("the %zu devices given: assignable together, to one VM\n", n);
        else
            printf("the %zu devices given: not assignable together: %s\n", n, why);
    }
    free(why);
    hd_assignment_list_unref(map);
    devargs_free(devs, n);
    return status;
}

const struct tool_command cmd_check = {
    .name = "check",
    .run = run,
    .usage = "ADDR...",
    .summary = "tell whether devices can be reset (and assigned) alone or need co-assignment",
    .help = "A device is assignable alone when it can be reset on its own and its IOMMU group\n"
            "holds no other endpoint (VFIO gives a group to one VM whole); members the host\n"
            "keeps (host/ISA bridges, SMBus, ...) are named; so is the VM that holds one.\n"
            "Several devices are also judged as one set, to go to one VM together: a last\n"
            "line says whether they can, or what each still needs beside them.\n"
            "Exit 0 when the devices given can go to a VM together (one: it is assignable\n"
            "alone), 1 otherwise (or when a group's members cannot be read), 2 when the sysfs "
            "contents of a device or of a member of\n"
            "its group are what the kernel would not write (bad input).\n",
};
