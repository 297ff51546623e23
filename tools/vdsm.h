/* vdsm.h - oVirt VDSM's hostdevListByCaps structure, as JSON or as vdsClient's tree. */
#ifndef HOSTDEV_VDSM_H
#define HOSTDEV_VDSM_H

#include "tool.h"

/* Every node device whose capability bit (1 << cap) is in @caps (0: all), as
 * {name: {"params": {...}, "vmId": ""}}; with @tree, one Python-dict line per device,
 * indented under its parent as the oVirt feature page draws it. */
int vdsm_list(struct tool *t, unsigned int caps, bool tree);

#endif
