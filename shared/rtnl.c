/* rtnl.c - the running system's addresses and routes as rtnetlink gives them: read-only GET
 * dumps of every table (policy routing, VRFs), routes that name nexthop objects resolved to
 * their interfaces, multipath routes one fact per path. /proc/net has the IPv4 main table only
 * and no IPv4 addresses, so what must see them all asks here. */
#include <linux/netlink.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared.h"

/* Nexthop objects (Linux 5.3): a route may name one by id instead of an interface. */
struct nexthop {
    uint32_t id;
    int oif;           /* 0: none (a group) */
    uint32_t *members; /* a group's nexthop ids */
    size_t nmembers;
};

struct walk {
    hd_rtnl_fn fn;
    void *data;
    struct nexthop *nh;
    size_t nnh;
    int err;
};

/* @f (its interface given by index) to the caller, with the interface's name. */
static void tell(struct walk *w, struct hd_rtnl_fact *f, int ifindex)
{
    if (w->err != 0 || ifindex <= 0 || if_indextoname((unsigned int)ifindex, f->ifname) == NULL)
        return;
    f->ifindex = ifindex;
    w->err = w->fn(w->data, f);
}

static void tell_nexthop(struct walk *w, struct hd_rtnl_fact *f, uint32_t id, int depth)
{
    for (size_t i = 0; i < w->nnh && depth < 2; i++) {
        if (w->nh[i].id != id)
            continue;
        tell(w, f, w->nh[i].oif);
        for (size_t k = 0; k < w->nh[i].nmembers; k++)
            tell_nexthop(w, f, w->nh[i].members[k], depth + 1);
    }
}

static void on_nexthop(struct walk *w, const struct nlmsghdr *h)
{
    const struct nhmsg *nhm = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nhm));
    struct nexthop nh = {0};
    struct nexthop *v;

    for (const struct rtattr *a = (const void *)((const char *)nhm + NLMSG_ALIGN(sizeof(*nhm)));
         RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == NHA_ID && RTA_PAYLOAD(a) >= 4)
            memcpy(&nh.id, RTA_DATA(a), 4);
        else if (a->rta_type == NHA_OIF && RTA_PAYLOAD(a) >= 4)
            memcpy(&nh.oif, RTA_DATA(a), 4);
        else if (a->rta_type == NHA_GROUP && nh.members == NULL) {
            size_t n = RTA_PAYLOAD(a) / sizeof(struct nexthop_grp);
            const struct nexthop_grp *g = RTA_DATA(a);
            if (n == 0 || (nh.members = calloc(n, sizeof(*nh.members))) == NULL)
                continue;
            for (size_t i = 0; i < n; i++)
                nh.members[i] = g[i].id;
            nh.nmembers = n;
        }
    }
    if ((v = realloc(w->nh, (w->nnh + 1) * sizeof(*v))) == NULL) {
        free(nh.members);
        w->err = -ENOMEM;
        return;
    }
    w->nh = v;
    w->nh[w->nnh++] = nh;
}

static void on_route(struct walk *w, const struct nlmsghdr *h)
{
    const struct rtmsg *rt = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rt));
    struct hd_rtnl_fact f = {.kind = HD_RTNL_ROUTE, .family = rt->rtm_family,
                             .prefix = rt->rtm_dst_len, .table = rt->rtm_table,
                             .type = rt->rtm_type, .scope = rt->rtm_scope};
    const struct rtattr *a;

    for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) <= sizeof(f.addr)) {
            f.addr_len = (unsigned int)RTA_PAYLOAD(a);
            memcpy(f.addr, RTA_DATA(a), f.addr_len);
        } else if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= 4) {
            memcpy(&f.table, RTA_DATA(a), 4); /* ids above 255 are only here */
        }
    }
    len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rt));
    for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        int oif;
        uint32_t id;
        if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4) {
            memcpy(&oif, RTA_DATA(a), 4);
            tell(w, &f, oif);
        } else if (a->rta_type == RTA_NH_ID && RTA_PAYLOAD(a) >= 4) {
            memcpy(&id, RTA_DATA(a), 4);
            tell_nexthop(w, &f, id, 0);
        } else if (a->rta_type == RTA_MULTIPATH) {
            const struct rtnexthop *nh = RTA_DATA(a);
            size_t left = RTA_PAYLOAD(a);
            while (left >= sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
                size_t step = (size_t)RTNH_ALIGN(nh->rtnh_len);
                tell(w, &f, nh->rtnh_ifindex);
                if (step >= left)
                    break;
                left -= step;
                nh = (const void *)((const char *)nh + step);
            }
        }
    }
}

static void on_addr(struct walk *w, const struct nlmsghdr *h)
{
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
    struct hd_rtnl_fact f = {.kind = HD_RTNL_ADDR, .family = ifa->ifa_family,
                             .prefix = ifa->ifa_prefixlen, .scope = ifa->ifa_scope};

    for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFA_ADDRESS && RTA_PAYLOAD(a) <= sizeof(f.addr)) {
            f.addr_len = (unsigned int)RTA_PAYLOAD(a);
            memcpy(f.addr, RTA_DATA(a), f.addr_len);
        }
    }
    tell(w, &f, (int)ifa->ifa_index);
}

/* One dump (a GET request with NLM_F_DUMP) of @type, every message to @w. */
static int dump(int fd, uint16_t type, struct walk *w)
{
    struct {
        struct nlmsghdr h;
        union {
            struct rtmsg rt;
            struct ifaddrmsg ifa;
            struct nhmsg nh;
        } u;
    } req;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    static const uint32_t seq = 1;
    size_t body = type == RTM_GETROUTE  ? sizeof(struct rtmsg)
                  : type == RTM_GETADDR ? sizeof(struct ifaddrmsg)
                                        : sizeof(struct nhmsg);
    char *buf;
    int r = 0;

    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
    req.h.nlmsg_type = type;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = seq;
    req.u.rt.rtm_family = AF_UNSPEC; /* the first byte of each of the three */
    if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return -errno;
    if ((buf = malloc(65536)) == NULL)
        return -ENOMEM;
    for (bool done = false; !done && r == 0 && w->err == 0;) {
        ssize_t n = recv(fd, buf, 65536, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        /* NLMSG_OK/NEXT by hand: the macros compare a u32 with an int (clang -Wsign-compare). */
        const struct nlmsghdr *h;
        for (size_t off = 0; off + sizeof(*h) <= (size_t)n; off += NLMSG_ALIGN(h->nlmsg_len)) {
            h = (const void *)((const char *)buf + off);
            if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > (size_t)n - off)
                break;
            if (h->nlmsg_seq != seq)
                continue;
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                r = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0 ? e->error : -EIO;
                break;
            }
            if (h->nlmsg_type == RTM_NEWROUTE && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg)))
                on_route(w, h);
            else if (h->nlmsg_type == RTM_NEWADDR &&
                     h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
                on_addr(w, h);
            else if (h->nlmsg_type == RTM_NEWNEXTHOP &&
                     h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nhmsg)))
                on_nexthop(w, h);
        }
    }
    free(buf);
    return r < 0 ? r : w->err;
}

int hd_rtnl_walk(hd_rtnl_fn fn, void *data)
{
    struct walk w = {.fn = fn, .data = data};
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    int r;

    if (fd < 0)
        return -errno;
    /* Nexthop objects first, so routes that name them resolve; kernels before 5.3 have none. */
    (void)dump(fd, RTM_GETNEXTHOP, &w);
    w.err = 0;
    r = dump(fd, RTM_GETROUTE, &w);
    if (r == 0)
        r = dump(fd, RTM_GETADDR, &w);
    close(fd);
    for (size_t i = 0; i < w.nnh; i++)
        free(w.nh[i].members);
    free(w.nh);
    return r;
}
