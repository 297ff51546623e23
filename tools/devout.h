/* devout.h - shared device output of the list and show commands. */
#ifndef HOSTDEV_DEVOUT_H
#define HOSTDEV_DEVOUT_H

#include "tool.h"

const char *device_class_name(uint32_t class);
/* "0000:03:00.0 Ethernet controller [0200]: Intel ... [8086:10d3] (rev 01) driver=e1000e group=3" */
void device_print_line(FILE *out, const struct hd_device *dev);
/* The keys of one device object (the caller opens and closes the object). */
void device_print_json_fields(struct json *j, const struct hd_device *dev);

#endif
