/* os.h - os/: what the operating system offers beside sysfs: kernel modules (module.c;
 * libkmod in kmod.c or modprobe in kmod-none.c), udev's hwdb through libudev (udev.c or
 * udev-none.c), the kernel command line and what its IOMMU parameters mean (cmdline.c,
 * options.c), modprobe.d's module options, blacklist and aliases (modprobe.c), the kernel's
 * module aliases (modalias.c). Uses gateway/ and shared/. */
#ifndef HOSTDEV_OS_H
#define HOSTDEV_OS_H

#include "gateway.h"

/* ---- module.c, kmod.c | kmod-none.c: kernel modules ----------------------------------------- */

/* module.c: make sure sys/bus/pci/drivers/@driver exists, loading @module when the
 * root is the host itself. -EPERM when the module is blacklisted. */
int hd_module_ensure_driver(struct hd_ctx *ctx, const char *driver, const char *module);
/* What hd_module_ensure_driver() would find, loading nothing: 1 the driver is there, 0 it
 * would be loaded (the host itself), or its error (blacklisted; not there under a fake root). */
int hd_module_check_driver(struct hd_ctx *ctx, const char *driver, const char *module);

/* Run modprobe for @module: what inserts it when libkmod is not there. */
int hd_module_run_modprobe(const char *module);

/* kmod.c or kmod-none.c, the module backend (the blacklist is modprobe.c's): */
/* Insert @module into the running kernel (the caller made sure the root is the host). */
int hd_module_insert(struct hd_ctx *ctx, const char *module);
/* Every module the modalias resolves to, as modprobe orders them; -ENOENT when none is known.
 * Without libkmod, kmod's lookup on modalias.c's and modprobe.c's aliases. Free with
 * hd_strv_free(). */
int hd_modules_for_modalias(struct hd_ctx *ctx, const char *modalias, char ***modules,
                            size_t *n);

/* module.c: the first of them ("e1000e"), allocated; -ENOENT when unknown. */
int hd_module_for_modalias(struct hd_ctx *ctx, const char *modalias, char **module);
/* Make sure @module is in the kernel: there (sys/module/@module), or inserted now when the
 * root is the host itself. -EPERM when it is blacklisted, -ENOENT under another root. */
int hd_module_ensure_loaded(struct hd_ctx *ctx, const char *module);
/* What hd_module_ensure_loaded() would find, loading nothing: 1 it is there, 0 it would be
 * inserted (the host itself), or its error. */
int hd_module_check_loaded(struct hd_ctx *ctx, const char *module);

/* ---- modalias.c: the running kernel's module aliases -------------------------------------- */

/* One alias: a module's pattern, as kmod matches it. */
struct hd_modalias {
    const char *pattern; /* "pci:v00008086d000010D3sv*sd*bc*sc*i*", hd_alias_normalize()d */
    const char *module;  /* a plain name (hd_name_valid()) */
    bool builtin;        /* a built-in driver's (modules.builtin.modinfo): nothing to load */
};
/* The "vfio_pci:" aliases (VFIO variant drivers' and vfio-pci's own) of the root's running
 * kernel, from modules.alias then modules.builtin.modinfo, in the files' order (depmod's, the
 * order kmod gives matches in): read on the context's first call and kept on it; none without
 * the files. Borrowed. A read error (not a missing file) or -ENOMEM fails, with a message. */
int hd_modaliases_get_vfio(struct hd_ctx *ctx, const struct hd_modalias **aliases, size_t *n);
/* kmod's alias_normalize(), in place: '-' is '_' outside a [...] class; false for a ']'
 * without its '[' or a class left open (kmod refuses such an alias). */
bool hd_alias_normalize(char *alias);
/* Does @pattern match @alias, as kmod matches them (fnmatch(), no flags)? */
bool hd_modalias_match(const char *pattern, const char *alias);
/* The modules @modalias resolves to as kmod_module_new_from_lookup() resolves it, read from
 * the text files (modprobe.d's alias lines, then modules.alias, then the built-in drivers'):
 * the libc-only build's answer, and the regular build's when libkmod cannot be opened. As
 * hd_modules_for_modalias(). */
int hd_modalias_modules(struct hd_ctx *ctx, const char *modalias, char ***modules, size_t *n);

/* ---- udev.c (or udev-none.c) ------------------------------------------------------------ */

struct hd_hwdb;
/* The udev hwdb: NULL when built without libudev or when no hwdb is installed. */
struct hd_hwdb *hd_hwdb_open(void);
void hd_hwdb_close(struct hd_hwdb *hwdb);
/* Allocated names (either may be NULL); -ENOENT when the hwdb knows nothing of these ids. */
int hd_hwdb_lookup(struct hd_hwdb *hwdb, uint16_t vendor, uint16_t device, char **vendor_name,
                   char **product_name);

/* ---- cmdline.c: words, names, values ------------------------------------------------------- */

/* hd_cmdline_new_from_ctx() without leaving a message on the context (for callers to which an
 * unreadable command line is a finding, not a failure). -EILSEQ when it holds a NUL. */
int hd_cmdline_read(struct hd_ctx *ctx, struct hd_cmdline **cmdline);
/* Record an option the kernel does not take (see hd_cmdline_get_invalid()); @kernel_log may
 * be NULL. -ENOMEM. */
int hd_cmdline_add_invalid(struct hd_cmdline *cmdline, const char *param, const char *option,
                           const char *why, const char *kernel_log);
/* @options, the options modprobe gives @module, as the kernel parses them when it loads it:
 * each parameter named "@module.param", as on the command line, and interpreted as there
 * (hd_cmdline_get_setting(), hd_cmdline_get_vfio_pci_id()). -ENOMEM. */
int hd_cmdline_new_from_module_options(const char *module, const char *options,
                                       struct hd_cmdline **cmdline);

/* ---- modprobe.c: modprobe.d as kmod reads it ---------------------------------------------- */

struct hd_modprobe;
/* The `options`, `blacklist` and `alias` lines of ROOT's etc, run, usr/local/lib, usr/lib and
 * lib modprobe.d: read on the context's first call and kept on it (once per run). What kmod
 * skips (other commands, bad lines, files it cannot read) is not there; -ENOMEM alone fails,
 * with a message. */
int hd_modprobe_get(struct hd_ctx *ctx, const struct hd_modprobe **modprobe);
/* What modprobe.d gives @module ("vfio_pci" or "vfio-pci") as it loads, parsed as
 * hd_cmdline_new_from_module_options() parses it; NULL when no line names it. Borrowed. */
const struct hd_cmdline *hd_modprobe_get_options(const struct hd_modprobe *modprobe,
                                                 const char *module);
/* Does a `blacklist` line name @module ('-' and '_' the same)? */
bool hd_modprobe_is_blacklisted(const struct hd_modprobe *modprobe, const char *module);
/* Where @param ("vfio.enable_unsafe_noiommu_mode") gets its value as modprobe loads its
 * module: the kernel command line @cmdline (may be NULL) when it names @param, whatever the
 * value, else modprobe.d's options for the module when they name it; NULL when neither does
 * (or modprobe.d could not be read: no message is left). Borrowed from @cmdline or the
 * context. A built-in module gets no modprobe.d options: the caller knows whether it is one. */
const struct hd_cmdline *hd_modprobe_param_source(struct hd_ctx *ctx,
                                                  const struct hd_cmdline *cmdline,
                                                  const char *param);
/* modprobe.d's `alias PATTERN MODULE` lines, in the files' order (kmod looks them up first,
 * before modules.alias): patterns and modules hd_alias_normalize()d. Borrowed. */
void hd_modprobe_get_aliases(const struct hd_modprobe *modprobe,
                             const struct hd_modalias **aliases, size_t *n);
/* modprobe.d's directories under the root, kmod's order (i from 0; NULL past the last): the
 * ones libkmod is given too, so that both readers see the same files. */
const char *hd_modprobe_dir(size_t i);
/* hd_modprobe_get()'s steps, one file's text at a time (the fuzzer takes them too): an empty
 * set; a file's `options` and `blacklist` lines added after what is there, its options parsed
 * as the kernel parses them (-ENOMEM); freed. */
int hd_modprobe_new(struct hd_modprobe **modprobe);
int hd_modprobe_parse_file(struct hd_modprobe *modprobe, const char *text, size_t len);
void hd_modprobe_free(struct hd_modprobe *modprobe);

/* ---- options.c: what the IOMMU-related parameters mean ------------------------------------ */

struct hd_cmdline_settings {
    signed char value[HD_CMDLINE_SETTING_COUNT]; /* enum hd_tristate */
    struct hd_pci_id_match *ids;                 /* vfio-pci.ids */
    size_t n_ids;
};

/* Fill @settings from the parsed parameters, recording invalid options on @cmdline. */
int hd_cmdline_interpret(struct hd_cmdline *cmdline, struct hd_cmdline_settings *settings);
void hd_cmdline_settings_free(struct hd_cmdline_settings *settings);

#endif
