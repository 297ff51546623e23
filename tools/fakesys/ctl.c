/* ctl.c - ROOT/.fakesys: the control file (faults, hangs, hotplug, modules) and the log. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"

bool kernel_stopping(struct kernel *k)
{
    return k->stopping || (k->stop_requested && k->stop_requested(k));
}

void kernel_sleep(struct kernel *k, int ms)
{
    unsigned long gen = k->release_gen;
    struct timespec until;

    if (k->dirty)
        sysfs_build(k); /* others must see a consistent tree while we sleep */
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    /* Wake up now and then to notice an unmount: the FUSE loop waits for every worker. */
    while (!kernel_stopping(k) && gen == k->release_gen) {
        struct timespec slice;
        clock_gettime(CLOCK_MONOTONIC, &slice);
        slice.tv_nsec += 100000000L;
        if (slice.tv_nsec >= 1000000000L) {
            slice.tv_sec++;
            slice.tv_nsec -= 1000000000L;
        }
        bool last = ms >= 0 && (slice.tv_sec > until.tv_sec ||
                                (slice.tv_sec == until.tv_sec && slice.tv_nsec >= until.tv_nsec));
        if (pthread_cond_timedwait(&k->wake, &k->lock, last ? &until : &slice) == ETIMEDOUT && last)
            break;
        if (kernel_stopping(k))
            break;
    }
}

static char *fault_key(struct kernel *k, const char *path)
{
    while (*path == '/')
        path++;
    struct node *n = tree_resolve(k->root, path);
    if (n && n->type == NODE_ATTR)
        return n->key ? xstrdup(n->key) : tree_path(n);
    return xstrdup(path); /* not there yet (a VF, say): match the path as written */
}

int fault_parse(int argc, char **argv, struct fault *f, char *err, size_t errsz)
{
    *f = (struct fault){.nth = 1, .count = 1};
    if (argc < 3) {
        snprintf(err, errsz, "usage: fault PATH ERRNO [nth=N] [count=N] [on=read|write]");
        return -EINVAL;
    }
    f->err = errno_parse(argv[2]);
    if (f->err < 0) {
        snprintf(err, errsz, "fault: unknown errno '%s'", argv[2]);
        return -EINVAL;
    }
    for (int i = 3; i < argc; i++) {
        char *end = NULL;
        const char *eq = strchr(argv[i], '=');
        unsigned long v = eq && eq[1] ? strtoul(eq + 1, &end, 10) : 0;
        bool num = end && *end == '\0';
        if (strncmp(argv[i], "nth=", 4) == 0 && num && v >= 1)
            f->nth = (unsigned int)v;
        else if (strncmp(argv[i], "count=", 6) == 0 && num)
            f->count = (unsigned int)v;
        else if (strcmp(argv[i], "on=read") == 0 || strcmp(argv[i], "on=write") == 0)
            f->on_read = argv[i][3] == 'r';
        else {
            snprintf(err, errsz, "fault: bad option '%s'", argv[i]);
            return -EINVAL;
        }
    }
    return 0;
}

void fault_add(struct kernel *k, const char *path, const struct fault *f)
{
    k->faults = xrealloc(k->faults, (k->nfaults + 1) * sizeof(*k->faults));
    k->faults[k->nfaults] = *f;
    k->faults[k->nfaults].key = fault_key(k, path);
    k->faults[k->nfaults].seen = k->faults[k->nfaults].fired = 0;
    k->nfaults++;
}

int fault_check(struct kernel *k, const char *key, bool on_read)
{
    for (size_t i = 0; i < k->nfaults; i++) {
        struct fault *f = &k->faults[i];
        if (f->on_read != on_read || strcmp(f->key, key) != 0)
            continue;
        f->seen++;
        if (f->seen >= f->nth && (f->count == 0 || f->fired < f->count)) {
            f->fired++;
            return -f->err;
        }
    }
    return 0;
}

static int status(struct kernel *k, int err, const char *fmt, ...) FS_PRINTF(3, 4);
static int status(struct kernel *k, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(k->ctl_status, sizeof(k->ctl_status), fmt, ap);
    va_end(ap);
    return err;
}

static int ms_parse(const char *s, int *ms)
{
    char *end;

    if (strcmp(s, "forever") == 0) {
        *ms = -1;
        return 0;
    }
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > 3600000)
        return -EINVAL;
    *ms = (int)v;
    return 0;
}

static int ctl_fault(struct kernel *k, int argc, char **argv)
{
    struct fault f;
    char err[256];

    if (fault_parse(argc, argv, &f, err, sizeof(err)) < 0)
        return status(k, -EINVAL, "%s", err);
    fault_add(k, argv[1], &f);
    return status(k, 0, "ok");
}

static int ctl_hang(struct kernel *k, int argc, char **argv)
{
    int ms;

    if (argc != 3)
        return status(k, -EINVAL, "usage: hang DRIVER MS|forever");
    struct driver *drv = driver_find(k, argv[1]);
    if (drv == NULL)
        return status(k, -ENOENT, "hang: no driver '%s'", argv[1]);
    if (ms_parse(argv[2], &ms) < 0)
        return status(k, -EINVAL, "hang: bad time '%s'", argv[2]);
    drv->unbind_hang_ms = ms;
    return status(k, 0, "ok");
}

static int ctl_probe_fails(struct kernel *k, int argc, char **argv)
{
    if (argc != 3)
        return status(k, -EINVAL, "usage: probe-fails DRIVER ERRNO|0");
    struct driver *drv = driver_find(k, argv[1]);
    if (drv == NULL)
        return status(k, -ENOENT, "probe-fails: no driver '%s'", argv[1]);
    int err = strcmp(argv[2], "0") == 0 ? 0 : errno_parse(argv[2]);
    if (err < 0)
        return status(k, -EINVAL, "probe-fails: unknown errno '%s'", argv[2]);
    drv->probe_errno = err;
    return status(k, 0, "ok");
}

static int ctl_add(struct kernel *k, const char *line)
{
    char err[256];
    struct device *dev;

    if (spec_device_line(k, line, &dev, err, sizeof(err)) < 0)
        return status(k, -EINVAL, "add: %s", err);
    kernel_log(k, "add %s", dev->name);
    kernel_uevent(k, "add", dev);
    device_attach(k, dev);
    return status(k, 0, "ok");
}

static struct device *ctl_device(struct kernel *k, const char *name)
{
    return device_find_name(k, name, strlen(name));
}

static int ctl_module(struct kernel *k, int argc, char **argv, bool load)
{
    if (argc != 2)
        return status(k, -EINVAL, "usage: %s MODULE", argv[0]);
    struct module *m = module_find(k, argv[1]);
    if (m == NULL || m->builtin)
        return status(k, -ENOENT, "%s: no loadable module '%s'", argv[0], argv[1]);
    if (m->loaded == load)
        return status(k, 0, "ok");
    if (!load) {
        for (size_t i = 0; i < k->ndevices; i++) {
            struct device *dev = k->devices[i];
            if (dev->present && dev->driver && dev->driver->module == m) {
                device_release_driver(k, dev);
                i = (size_t)-1; /* the list may have changed: start over */
            }
        }
        for (size_t i = 0; i < k->ndrivers; i++) {
            if (k->drivers[i]->module == m) {
                free(k->drivers[i]->dyn); /* pci_unregister_driver() frees the dynamic ids */
                k->drivers[i]->dyn = NULL;
                k->drivers[i]->ndyn = 0;
            }
        }
    }
    m->loaded = load;
    kernel_log(k, "%s %s", load ? "modprobe" : "rmmod", m->name);
    k->dirty = true;
    if (load && k->drivers_autoprobe) {
        /* bus_add_driver(): driver_attach() when the bus autoprobes. */
        for (size_t d = 0; d < k->ndrivers; d++)
            if (k->drivers[d]->module == m)
                driver_attach(k, k->drivers[d]);
    }
    return status(k, 0, "ok");
}

int ctl_run(struct kernel *k, const char *line)
{
    char **argv = NULL;
    char err[256];
    int argc = spec_split(line, &argv, err, sizeof(err));
    int r;

    if (argc < 0)
        return status(k, -EINVAL, "%s", err);
    if (argc == 0) {
        strv_free(argv);
        return status(k, -EINVAL, "empty command");
    }
    const char *cmd = argv[0];
    if (strcmp(cmd, "fault") == 0) {
        r = ctl_fault(k, argc, argv);
    } else if (strcmp(cmd, "clear-faults") == 0) {
        for (size_t i = 0; i < k->nfaults; i++)
            free(k->faults[i].key);
        k->nfaults = 0;
        r = status(k, 0, "ok");
    } else if (strcmp(cmd, "hang") == 0) {
        r = ctl_hang(k, argc, argv);
    } else if (strcmp(cmd, "release") == 0) {
        /* end every hang, close every group: nothing waits any more (umount says this) */
        for (size_t i = 0; i < k->ngnodes; i++)
            k->gnodes[i].open = false;
        k->release_gen++;
        pthread_cond_broadcast(&k->wake);
        r = status(k, 0, "ok");
    } else if (strcmp(cmd, "probe-fails") == 0) {
        r = ctl_probe_fails(k, argc, argv);
    } else if (strcmp(cmd, "add") == 0) {
        const char *rest = strstr(line, "add") + 3;
        r = ctl_add(k, rest);
    } else if (strcmp(cmd, "unplug") == 0 && argc == 2) {
        struct device *dev = ctl_device(k, argv[1]);
        if (dev == NULL) {
            r = status(k, -ENODEV, "unplug: no device '%s'", argv[1]);
        } else {
            device_remove(k, dev, "unplug");
            r = status(k, 0, "ok");
        }
    } else if ((strcmp(cmd, "open-group") == 0 || strcmp(cmd, "close-group") == 0) && argc == 2) {
        char *end;
        long g = strtol(argv[1], &end, 10);
        struct group_node *gn = *end || end == argv[1] ? NULL : group_node_find(k, (int)g);
        bool open = cmd[0] == 'o';
        if (gn == NULL) {
            r = status(k, -ENOENT, "%s: no dev/vfio/%s", cmd, argv[1]);
        } else {
            gn->open = open;
            kernel_log(k, "vfio-%s %d", open ? "open" : "close", gn->group);
            r = status(k, 0, "ok");
        }
    } else if (strcmp(cmd, "usb-replug") == 0 && argc == 2) {
        /* the device re-enumerates: a new device number, a new node */
        r = usb_replug(k, argv[1]) < 0 ? status(k, -ENODEV, "usb-replug: no USB device '%s'",
                                                argv[1])
                                       : status(k, 0, "ok");
    } else if (strcmp(cmd, "modprobe") == 0 || strcmp(cmd, "rmmod") == 0) {
        r = ctl_module(k, argc, argv, cmd[0] == 'm');
    } else if (strcmp(cmd, "param") == 0 && argc == 4) {
        module_set_param(module_get(k, argv[1]), argv[2], argv[3]);
        k->dirty = true;
        r = status(k, 0, "ok");
    } else if (strcmp(cmd, "mark") == 0) {
        struct buf text = {0};
        for (int i = 1; i < argc; i++)
            buf_printf(&text, "%s%s", i > 1 ? " " : "", argv[i]);
        kernel_log(k, "mark %s", text.data ? text.data : "");
        buf_free(&text);
        r = status(k, 0, "ok");
    } else if (strcmp(cmd, "clear-log") == 0) {
        buf_reset(&k->log);
        r = status(k, 0, "ok");
    } else {
        r = status(k, -EINVAL, "unknown command '%s' (see hostdev-fakesys ctl --help)", cmd);
    }
    strv_free(argv);
    return r;
}

static int ctl_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)obj;
    (void)len;
    return ctl_run(k, data);
}

static void log_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_add(out, k->log.data ? k->log.data : "", k->log.len);
}

static void pid_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    (void)obj;
    buf_printf(out, "%ld\n", (long)getpid());
}

static void status_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_printf(out, "%s\n", k->ctl_status);
}

const struct attr ctl_attrs[] = {
    {.name = "ctl", .mode = 0200, .store = ctl_store},
    {.name = "log", .mode = 0444, .show = log_show},
    {.name = "pid", .mode = 0444, .show = pid_show},
    {.name = "status", .mode = 0444, .show = status_show},
};
const size_t ctl_nattrs = FS_ARRAY_SIZE(ctl_attrs);
