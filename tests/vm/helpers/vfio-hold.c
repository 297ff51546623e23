/* vfio-hold.c - hold a PCI device open through VFIO the way QEMU does (container, group, IOMMU
 * backend, device fd) until killed: the VM suite's stand-in for a VM that hostdev does not
 * know of. Usage: vfio-hold GROUP BDF; prints "held" once the device fd is open. */
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int die(const char *what)
{
    perror(what);
    return 1;
}

int main(int argc, char **argv)
{
    char path[64];
    int container, group;

    if (argc != 3) {
        fprintf(stderr, "usage: vfio-hold GROUP BDF\n");
        return 2;
    }
    snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
    if ((container = open("/dev/vfio/vfio", O_RDWR)) < 0)
        return die("/dev/vfio/vfio");
    if ((group = open(path, O_RDWR)) < 0)
        return die(path);
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
        return die("VFIO_GROUP_SET_CONTAINER");
    if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 &&
        ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
        return die("VFIO_SET_IOMMU");
    /* The device fd stays open (never closed) until the process is killed. */
    if (ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]) < 0)
        return die("VFIO_GROUP_GET_DEVICE_FD");
    printf("held\n");
    fflush(stdout);
    for (;;)
        pause();
}
