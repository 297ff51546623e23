/* sriov.c - `hostdev sriov ADDR --numvfs N`: create or remove a PF's virtual functions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static int parse_count(const char *s, unsigned int *out)
{
    char *end;
    unsigned long v;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > 65535)
        return -EINVAL;
    *out = (unsigned int)v;
    return 0;
}

static int run(struct tool *t, int argc, char **argv)
{
    const char *addr = NULL, *count = NULL;
    struct hd_device *dev = NULL;
    unsigned int numvfs;
    int code, r;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--numvfs") == 0 && i + 1 < argc)
            count = argv[++i];
        else if (strncmp(argv[i], "--numvfs=", 9) == 0)
            count = argv[i] + 9;
        else if (argv[i][0] != '-' && addr == NULL)
            addr = argv[i];
        else {
            tool_usage(&cmd_sriov, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (addr == NULL || count == NULL) {
        tool_usage(&cmd_sriov, stderr, t->prog);
        return EXIT_USAGE;
    }
    if (parse_count(count, &numvfs) < 0)
        return tool_error(t, EXIT_USAGE, "invalid --numvfs '%s' (a count, 0 removes the VFs)",
                          count);
    code = tool_open_device(t, addr, &dev);
    if (code != EXIT_DONE)
        return code;
    hd_ctx_clear_error(t->ctx);
    r = hd_device_set_numvfs(dev, numvfs);
    if (r < 0) {
        code = r == -ENOTSUP || r == -ERANGE ? EXIT_USAGE : EXIT_FAILED;
        if (hd_ctx_last_error(t->ctx)[0] != '\0')
            tool_error(t, code, "%s", hd_ctx_last_error(t->ctx)); /* it names the device */
        else
            tool_lib_error(t, code, r, "%s", hd_device_get_name(dev));
    } else if (tool_json(t)) {
        struct json j;

        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "device", hd_device_get_name(dev));
        json_kv_int(&j, "numvfs", numvfs);
        json_kv_int(&j, "previous_numvfs", r);
        json_kv_bool(&j, "changed", (unsigned int)r != numvfs);
        json_end_object(&j);
        json_finish(&j);
    } else if ((unsigned int)r == numvfs) {
        printf("%s: already has %u virtual function%s\n", hd_device_get_name(dev), numvfs,
               numvfs == 1 ? "" : "s");
    } else {
        printf("%s: %u virtual function%s (was %d)\n", hd_device_get_name(dev), numvfs,
               numvfs == 1 ? "" : "s", r);
    }
    hd_device_unref(dev);
    return code;
}

const struct tool_command cmd_sriov = {
    .name = "sriov",
    .run = run,
    .usage = "ADDR --numvfs N",
    .summary = "set the number of SR-IOV virtual functions of a PF",
    .help = "Sets sriov_drivers_autoprobe to 0 first and leaves it so: the VFs come up unbound,\n"
            "ready for `hostdev detach`, and no host driver grabs them later. A change N -> M\n"
            "goes through 0 (the kernel refuses N -> M), and the command waits until the VFs\n"
            "have appeared or gone. On failure the previous count is put back when possible.\n"
            "Exit status: 0 done, 1 failed, 2 not an SR-IOV PF or N > sriov_totalvfs.\n",
};
