/* netdev-features.c - a network interface's offloads as libvirt lists them (ethtool ioctls).
 * They live in the host's network stack, not in a sysfs tree: asked only when the root is the
 * host itself. */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nodedev.h"

const char *const hd_netdev_feature_names[HD_NETDEV_FEATURES] = {
    "rx",     "tx",     "sg",     "tso",    "gso",  "gro",      "lro",
    "rxvlan", "txvlan", "ntuple", "rxhash", "rdma", "txudptnl", "switchdev",
};

static int ethtool(int fd, const char *ifname, void *cmd)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    ifr.ifr_data = cmd;
    return ioctl(fd, SIOCETHTOOL, &ifr);
}

int hd_netdev_features(const char *ifname, unsigned int *mask)
{
    /* The commands and flags libvirt asks, in the order of its feature list. */
    static const uint32_t value_cmds[] = {ETHTOOL_GRXCSUM, ETHTOOL_GTXCSUM, ETHTOOL_GSG,
                                          ETHTOOL_GTSO,    ETHTOOL_GGSO,    ETHTOOL_GGRO};
    static const uint32_t flags[] = {ETH_FLAG_LRO, ETH_FLAG_RXVLAN, ETH_FLAG_TXVLAN,
                                     ETH_FLAG_NTUPLE, ETH_FLAG_RXHASH};
    /* features[] is a flexible array: room for two blocks, allocated (ISO C allows no struct
     * with one as a member, and clang says so). */
    struct ethtool_gfeatures *gf;
    struct ethtool_value ev;
    int fd;

    *mask = 0;
    if (strlen(ifname) >= IFNAMSIZ)
        return -EINVAL;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    for (size_t i = 0; i < HD_ARRAY_SIZE(value_cmds); i++) {
        ev = (struct ethtool_value){.cmd = value_cmds[i]};
        if (ethtool(fd, ifname, &ev) == 0 && ev.data)
            *mask |= 1u << i;
    }
    ev = (struct ethtool_value){.cmd = ETHTOOL_GFLAGS};
    for (size_t i = 0; ethtool(fd, ifname, &ev) == 0 && i < HD_ARRAY_SIZE(flags); i++) {
        if (ev.data & flags[i])
            *mask |= 1u << (HD_ARRAY_SIZE(value_cmds) + i);
    }
    /* libvirt reads "txudptnl" as bit 25 of the first feature word, whatever the kernel
     * numbers it today; so do we, to show what libvirt shows. */
    gf = calloc(1, sizeof(*gf) + 2 * sizeof(gf->features[0]));
    if (gf != NULL) {
        gf->cmd = ETHTOOL_GFEATURES;
        gf->size = 2;
        if (ethtool(fd, ifname, gf) == 0 && (gf->features[0].active & (1u << 25)))
            *mask |= 1u << 12;
        free(gf);
    }
    close(fd);
    return 0;
}
