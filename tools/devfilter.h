/* devfilter.h - which devices a listing shows: addresses, VVVV:DDDD, interface names, globs
 * over the address or an interface's name, and lspci's -s and -d selectors; OR-ed. */
#ifndef HOSTDEV_DEVFILTER_H
#define HOSTDEV_DEVFILTER_H

#include "tool.h"

struct devfilter;

struct devfilter *devfilter_new(void);
void devfilter_free(struct devfilter *f);
/* A positional selector: address, VVVV:DDDD, interface name or a glob (01:00.*, enp3*). */
int devfilter_add_arg(struct tool *t, struct devfilter *f, const char *arg);
/* lspci -s [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] ('*' or nothing: any). */
int devfilter_add_slot(struct tool *t, struct devfilter *f, const char *spec);
/* lspci -d [VENDOR]:[DEVICE][:CLASS] (hex; nothing: any; CLASS of 2 or 4 digits). */
int devfilter_add_ids(struct tool *t, struct devfilter *f, const char *spec);
/* --driver NAME (none: no driver): each one given narrows the listing to devices on any of
 * them. */
int devfilter_add_driver(struct tool *t, struct devfilter *f, const char *name);
bool devfilter_driver_match(const struct devfilter *f, const struct hd_device *dev);
size_t devfilter_driver_count(const struct devfilter *f);
const char *devfilter_driver(const struct devfilter *f, size_t i);
/* Does @dev, whose interfaces are @ifnames (joined by ',', "" for none), pass the selectors
 * (everything does when there are none)? */
bool devfilter_match(struct devfilter *f, const struct hd_device *dev, const char *ifnames);
/* The first address named outright that matched nothing, or NULL. */
const char *devfilter_unmatched_address(const struct devfilter *f);
/* How @dev was named outright (its address or interface name, as typed), or NULL. */
const char *devfilter_names(const struct devfilter *f, const struct hd_device *dev);

#endif
