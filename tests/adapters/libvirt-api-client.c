/* libvirt-api-client.c - a libvirt client of the node-device API, built against hostdev's
 * libvirt.pc: it prints what each call returns so the test can compare with libvirt's rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static void show_error(const char *what)
{
    virErrorPtr err = virGetLastError();

    if (err == NULL)
        printf("%s: no error\n", what);
    else
        printf("%s: code=%d domain=%d level=%d message=%s\n", what, err->code, err->domain,
               err->level, err->message);
}

int main(void)
{
    virConnectPtr conn;
    virNodeDevicePtr *devs, dev;
    char *names[64], *caps[8], *xml;
    unsigned long version = 0;
    int n, i;

    if (virInitialize() < 0 || virGetVersion(&version, NULL, NULL) < 0 || version < 9000000)
        return 1;
    conn = virConnectOpen(NULL);
    if (conn == NULL) {
        show_error("open");
        return 1;
    }
    printf("num(all)=%d num(pci)=%d num(usb)=%d num(bogus)=%d\n",
           virNodeNumOfDevices(conn, NULL, 0), virNodeNumOfDevices(conn, "pci", 0),
           virNodeNumOfDevices(conn, "usb", 0), virNodeNumOfDevices(conn, "bogus", 0));
    n = virNodeListDevices(conn, "scsi_host", names, 64, 0);
    printf("list(scsi_host)=%d", n);
    for (i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    n = virConnectListAllNodeDevices(conn, &devs,
                                     VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI |
                                         VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET);
    printf("all(scsi|net)=%d", n);
    for (i = 0; i < n; i++) {
        printf(" %s<%s", virNodeDeviceGetName(devs[i]), virNodeDeviceGetParent(devs[i]));
        virNodeDeviceFree(devs[i]);
    }
    printf(" last=%s\n", devs[n] == NULL ? "NULL" : "set");
    free(devs);
    printf("all(vdpa only)=%d\n",
           virConnectListAllNodeDevices(conn, NULL, VIR_CONNECT_LIST_NODE_DEVICES_CAP_VDPA));

    dev = virNodeDeviceLookupByName(conn, "pci_0000_01_10_0");
    n = virNodeDeviceNumOfCaps(dev);
    printf("caps=%d", n);
    n = virNodeDeviceListCaps(dev, caps, 8);
    for (i = 0; i < n; i++) {
        printf(" %s", caps[i]);
        free(caps[i]);
    }
    printf("\n");
    xml = virNodeDeviceGetXMLDesc(dev, 0);
    printf("xml starts: %.40s\n", xml);
    free(xml);
    virNodeDeviceRef(dev);
    printf("free=%d free=%d\n", virNodeDeviceFree(dev), virNodeDeviceFree(dev));
    show_error("after success");

    dev = virNodeDeviceLookupByName(conn, "computer");
    printf("computer parent=%s\n", virNodeDeviceGetParent(dev) ? "set" : "NULL");
    show_error("computer parent");
    printf("detach computer=%d\n", virNodeDeviceDettach(dev));
    show_error("detach computer");
    virNodeDeviceFree(dev);

    printf("lookup=%s\n", virNodeDeviceLookupByName(conn, "usb_9_9") ? "found" : "NULL");
    show_error("lookup");
    printf("message=%s\n", virGetLastErrorMessage());
    virResetLastError();
    show_error("reset");
    printf("message=%s\n", virGetLastErrorMessage());
    printf("name(NULL)=%s\n", virNodeDeviceGetName(NULL) ? "set" : "NULL");
    show_error("name(NULL)");
    printf("close=%d\n", virConnectClose(conn));
    return 0;
}
