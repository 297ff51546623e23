/* monitor.c - device events as the kernel announces them: on the host, its uevent netlink
 * socket (NETLINK_KOBJECT_UEVENT, group 1: the kernel's own messages, not udevd's); under
 * another root, the fake kernel's channel proc/hostdev-uevents, which it appends one event a
 * line to, in the same words. Only reads. */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define UEVENT_MAX 8192 /* the kernel's UEVENT_BUFFER_SIZE is 2048; room to spare */
#define FAKE_CHANNEL "proc/hostdev-uevents"
#define FAKE_POLL_MS 50


struct hd_monitor {
    int refcount;
    struct hd_ctx *ctx;
    int fd;           /* netlink socket, or -1 under a fake root */
    off_t offset;     /* fake: what of the channel was read */
    char *pending;    /* fake: lines read, not yet returned */
    size_t pending_len, pending_pos;
    struct hd_uevent ev;
};

static const char *const action_names[] = {
    [HD_UEVENT_ADD] = "add",       [HD_UEVENT_REMOVE] = "remove", [HD_UEVENT_CHANGE] = "change",
    [HD_UEVENT_BIND] = "bind",     [HD_UEVENT_UNBIND] = "unbind", [HD_UEVENT_MOVE] = "move",
    [HD_UEVENT_ONLINE] = "online", [HD_UEVENT_OFFLINE] = "offline",
};

HD_EXPORT const char *hd_uevent_action_to_string(enum hd_uevent_action a)
{
    return (unsigned)a < HD_ARRAY_SIZE(action_names) && action_names[a] ? action_names[a]
                                                                        : "unknown";
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return false;
    }
    return true;
}

/* A field's value into a fixed buffer; too long is malformed, not truncated. */
static int copy_value(char *dst, size_t size, const char *v, size_t vlen)
{
    if (vlen >= size)
        return -EINVAL;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
    return 0;
}

/* One message: "ACTION@DEVPATH", then KEY=VALUE fields, each NUL-terminated (the last may lack
 * its NUL). 0, or -EINVAL for anything else: a malformed message is skipped, never trusted. */
int hd_uevent_parse(const char *msg, size_t len, struct hd_uevent *ev)
{
    const char *p = msg, *end = msg + len, *at;
    bool have_action = false, have_devpath = false, have_subsystem = false;
    size_t n;

    memset(ev, 0, sizeof(*ev));
    ev->action = HD_UEVENT_UNKNOWN;
    if (msg == NULL || len == 0)
        return -EINVAL;
    n = strnlen(p, (size_t)(end - p));
    if ((at = memchr(p, '@', n)) == NULL || at == p || !printable(p, n))
        return -EINVAL; /* udevd's "libudev" messages and garbage alike */
    p += n + 1;
    while (p < end) {
        const char *eq;
        n = strnlen(p, (size_t)(end - p));
        if (n == 0) {
            p++;
            continue;
        }
        if (!printable(p, n) || (eq = memchr(p, '=', n)) == NULL || eq == p)
            return -EINVAL;
        size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
        const char *v = eq + 1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
#define COPY(dst)                                                                                  \
    do {                                                                                           \
        if (copy_value((dst), sizeof(dst), v, vlen) < 0)                                           \
            return -EINVAL;                                                                        \
    } while (0)
        if (KEY("ACTION")) {
            COPY(ev->action_name);
            have_action = true;
        } else if (KEY("DEVPATH")) {
            COPY(ev->devpath);
            have_devpath = true;
        } else if (KEY("SUBSYSTEM")) {
            COPY(ev->subsystem);
            have_subsystem = true;
        } else if (KEY("DRIVER")) {
            COPY(ev->driver);
        } else if (KEY("PCI_SLOT_NAME")) {
            COPY(ev->slot);
        } else if (KEY("SEQNUM")) {
            char num[24];
            unsigned long long s;
            COPY(num);
            if (hd_parse_uint(num, 10, ~0ull, &s) < 0)
                return -EINVAL;
            ev->seqnum = s;
        }
#undef KEY
#undef COPY
        p += n + 1;
    }
    if (!have_action || !have_devpath || !have_subsystem || ev->devpath[0] != '/' ||
        ev->subsystem[0] == '\0') /* "SUBSYSTEM=" says nothing a filter could match */
        return -EINVAL;
    for (size_t i = 0; i < HD_ARRAY_SIZE(action_names); i++) {
        if (action_names[i] && strcmp(action_names[i], ev->action_name) == 0)
            ev->action = (enum hd_uevent_action)i;
    }
    if (ev->action == HD_UEVENT_UNKNOWN)
        return -EINVAL;
    if (ev->driver[0] && !hd_name_valid(ev->driver))
        return -EINVAL;
    if (ev->slot[0]) {
        if (strcmp(ev->subsystem, "pci") != 0 || hd_pci_addr_parse(ev->slot, &ev->addr) < 0)
            return -EINVAL;
        ev->has_addr = true;
    }
    return 0;
}

HD_EXPORT int hd_monitor_new(struct hd_ctx *ctx, struct hd_monitor **out)
{
    struct hd_monitor *m;
    int r;

    *out = NULL;
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    m->refcount = 1;
    m->ctx = hd_ctx_ref(ctx);
    m->fd = -1;
    if (hd_ctx_root_is_host(ctx)) {
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
        int size = 1 << 20;
        m->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                       NETLINK_KOBJECT_UEVENT);
        if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            r = -errno;
            hd_monitor_unref(m);
            return hd_err(ctx, r, "cannot listen to the kernel's device events (uevent "
                          "netlink): %s", strerror(-r));
        }
        /* A burst (64 VFs appearing) must not overflow the socket. */
        setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    } else {
        /* Events from now on: what the channel holds already happened. */
        char *data = NULL;
        size_t len = 0;
        if ((r = hd_fs_read_alloc(ctx, FAKE_CHANNEL, HD_READ_MAX, &data, &len)) < 0) {
            hd_monitor_unref(m);
            return hd_err(ctx, r, "%s: no device events under this root (the fake kernel "
                          "writes them there)", FAKE_CHANNEL);
        }
        m->offset = (off_t)len;
        free(data);
    }
    *out = m;
    return 0;
}

HD_EXPORT struct hd_monitor *hd_monitor_ref(struct hd_monitor *m)
{
    if (m != NULL)
        m->refcount++;
    return m;
}

HD_EXPORT struct hd_monitor *hd_monitor_unref(struct hd_monitor *m)
{
    if (m == NULL || --m->refcount > 0)
        return NULL;
    if (m->fd >= 0)
        close(m->fd);
    free(m->pending);
    hd_ctx_unref(m->ctx);
    free(m);
    return NULL;
}

HD_EXPORT int hd_monitor_get_fd(const struct hd_monitor *m)
{
    return m->fd;
}

/* The fake's channel: read what was appended since last time. */
static int fake_refill(struct hd_monitor *m)
{
    char *data = NULL;
    size_t len = 0;
    int r = hd_fs_read_alloc(m->ctx, FAKE_CHANNEL, HD_READ_MAX, &data, &len);

    if (r < 0)
        return r;
    if ((off_t)len < m->offset) /* the fake started over */
        m->offset = 0;
    free(m->pending);
    m->pending = NULL;
    m->pending_len = m->pending_pos = 0;
    if ((off_t)len > m->offset) {
        size_t n = len - (size_t)m->offset;
        if ((m->pending = malloc(n)) == NULL) {
            free(data);
            return -ENOMEM;
        }
        memcpy(m->pending, data + m->offset, n);
        m->pending_len = n;
        m->offset = (off_t)len;
    }
    free(data);
    return 0;
}

/* The next whole line of the channel, as a message: its blanks become the fields' NULs. */
static int fake_next(struct hd_monitor *m, struct hd_uevent *ev)
{
    while (m->pending_pos < m->pending_len) {
        char *line = m->pending + m->pending_pos;
        char *nl = memchr(line, '\n', m->pending_len - m->pending_pos);
        size_t n;
        if (nl == NULL) { /* half a line: read again next time */
            m->offset -= (off_t)(m->pending_len - m->pending_pos);
            m->pending_pos = m->pending_len;
            break;
        }
        n = (size_t)(nl - line);
        m->pending_pos += n + 1;
        for (size_t i = 0; i < n; i++) {
            if (line[i] == ' ')
                line[i] = '\0';
        }
        if (hd_uevent_parse(line, n, ev) == 0)
            return 0;
    }
    return -EAGAIN;
}

HD_EXPORT int hd_monitor_next(struct hd_monitor *m, int timeout_ms, const struct hd_uevent **out)
{
    char buf[UEVENT_MAX];

    *out = NULL;
    for (;;) {
        if (m->fd < 0) {
            int r;
            if (fake_next(m, &m->ev) == 0) {
                *out = &m->ev;
                return 0;
            }
            if ((r = fake_refill(m)) < 0)
                return hd_err(m->ctx, r, "%s: cannot read the device events", FAKE_CHANNEL);
            if (fake_next(m, &m->ev) == 0) {
                *out = &m->ev;
                return 0;
            }
            if (timeout_ms == 0)
                return -EAGAIN;
            poll(NULL, 0, timeout_ms > 0 && timeout_ms < FAKE_POLL_MS ? timeout_ms : FAKE_POLL_MS);
            if (timeout_ms > 0)
                timeout_ms = timeout_ms > FAKE_POLL_MS ? timeout_ms - FAKE_POLL_MS : 0;
            continue;
        }
        struct sockaddr_nl from;
        struct iovec iov = {buf, sizeof(buf) - 1};
        struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
                            .msg_iovlen = 1};
        ssize_t n = recvmsg(m->fd, &mh, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {m->fd, POLLIN, 0};
            int p;
            if (timeout_ms == 0)
                return -EAGAIN;
            p = poll(&pfd, 1, timeout_ms);
            if (p < 0 && errno == EINTR)
                return -EINTR;
            if (p == 0)
                return -EAGAIN;
            continue;
        }
        if (n < 0) {
            int r = -errno;
            /* ENOBUFS: events were lost; say so, the caller may rescan. */
            return hd_err(m->ctx, r, "reading the kernel's device events: %s", strerror(-r));
        }
        /* Only the kernel (port 0) speaks on group 1; anything else is not believed. */
        if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
            continue;
        if (hd_uevent_parse(buf, (size_t)n, &m->ev) == 0) {
            *out = &m->ev;
            return 0;
        }
    }
}

HD_EXPORT enum hd_uevent_action hd_uevent_get_action(const struct hd_uevent *ev)
{
    return ev->action;
}

HD_EXPORT const char *hd_uevent_get_subsystem(const struct hd_uevent *ev)
{
    return ev->subsystem;
}

HD_EXPORT const char *hd_uevent_get_devpath(const struct hd_uevent *ev)
{
    return ev->devpath;
}

HD_EXPORT const char *hd_uevent_get_driver(const struct hd_uevent *ev)
{
    return ev->driver[0] ? ev->driver : NULL;
}

HD_EXPORT const struct hd_pci_addr *hd_uevent_get_addr(const struct hd_uevent *ev)
{
    return ev->has_addr ? &ev->addr : NULL;
}

HD_EXPORT unsigned long long hd_uevent_get_seqnum(const struct hd_uevent *ev)
{
    return ev->seqnum;
}

/* The nearest name of directory @dir to @name so far, in @slip (names are copied to @held: the
 * listing is freed before the answer is read). */
static int slip_in_dir(struct hd_ctx *ctx, const char *dir, struct hd_slip *slip, char *held,
                       size_t size)
{
    char **names = NULL;
    size_t n = 0;
    int r = hd_fs_list_dir(ctx, dir, &names, &n);

    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        hd_slip_consider(slip, names[i]);
        if (slip->meant == names[i]) {
            hd_strlcpy(held, names[i], size);
            slip->meant = held;
        }
    }
    hd_strv_free(names, n);
    return 0;
}

HD_EXPORT int hd_uevent_subsystem_known(struct hd_ctx *ctx, const char *name, char *nearest,
                                        size_t size)
{
    char bus[HD_PATH_MAX], class[HD_PATH_MAX], held[2][HD_PATH_MAX];
    struct hd_slip slip;
    int r;

    if (size > 0)
        nearest[0] = '\0';
    if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
        hd_path(bus, sizeof(bus), "sys/bus/%s", name) < 0 ||
        hd_path(class, sizeof(class), "sys/class/%s", name) < 0)
        return hd_err(ctx, -EINVAL, "'%s' is not a subsystem's name", name);
    if ((r = hd_fs_exists(ctx, bus)) != 0 || (r = hd_fs_exists(ctx, class)) != 0)
        return r < 0 ? hd_err(ctx, r, "cannot look for subsystem %s", name) : 1;
    hd_slip_init(&slip, name, strlen(name), false);
    if ((r = slip_in_dir(ctx, "sys/bus", &slip, held[0], sizeof(held[0]))) < 0)
        return hd_err(ctx, r, "cannot list the kernel's buses (sys/bus)");
    /* A class the kernel lacks (no device of it ever registered) is no error. */
    if ((r = slip_in_dir(ctx, "sys/class", &slip, held[1], sizeof(held[1]))) < 0 && r != -ENOENT)
        return hd_err(ctx, r, "cannot list the kernel's classes (sys/class)");
    if (hd_slip_meant(&slip) != NULL && size > 0)
        hd_strlcpy(nearest, hd_slip_meant(&slip), size);
    return 0;
}
