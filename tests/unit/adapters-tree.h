/* adapters-tree.h - the adapter tests' materialized sysfs tree (tests/trees/adapters.spec), the
 * few changes a test makes on top of it, and running commands. */
#ifndef HOSTDEV_ADAPTERS_TREE_H
#define HOSTDEV_ADAPTERS_TREE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A new empty tree under $TMPDIR; at_tree_free() removes it. Both abort the test on error. */
char *at_tree_new(void);
void at_tree_free(char *root);

void at_file(const char *root, const char *path, const char *content);
void at_bytes(const char *root, const char *path, const void *data, size_t len);
void at_link(const char *root, const char *path, const char *target);

/* Materialize tests/trees/adapters.spec into the empty @root: the oVirt seed's tree and then
 * some (SATA -> scsi_host1 -> target -> disk -> sg1 + sda, e1000e with eth0, an SR-IOV PF and
 * its VF, a USB tablet, an RCiEP, lo, a partition and a loop device, 0000:06:12.5 already on
 * vfio-pci). Tests change it afterwards with at_file(), at_bytes() and at_link(). */
void at_sample(const char *root);
/* The sample tree of the running test (NULL outside one): at_sample_setup(), a test file's
 * setup or the start of its own, makes it; at_sample_teardown() removes it. */
extern char *at_root;
void at_sample_setup(void);
void at_sample_teardown(void);

/* Run @cmd with sh -c; *@out (may be NULL) gets stdout, *@err stderr (allocated). Returns
 * the exit status. */
int at_run(const char *cmd, char **out, char **err);
/* Fail the test unless @text is one JSON document or, with @per_line, one JSON value on every
 * line (python3's json module says). */
void at_json_check(const char *text, bool per_line);
/* Whether @hostdevs (<hostdev> elements) in a minimal domain, written as @dir/dom.xml, pass
 * xmllint against libvirt's domain.rng. */
bool at_domain_validates(const char *dir, const char *hostdevs);
/* The build directory (HOSTDEV_BUILD, default "build") and the source tree. */
const char *at_build_dir(void);
const char *at_src_dir(void);

#endif
