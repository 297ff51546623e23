/* findings.c - the one findings type: what the IOMMU probe, VFIO verification and the doctor
 * find, each with a severity, a stable code, the device (or none: the host), what is wrong and
 * the fix; and the one home of kernel command-line advice they all give. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct finding {
    enum hd_severity severity;
    char *code;
    char *device; /* NULL: the host */
    char *message;
    char *fix;
    enum hd_remedy remedy;
    /* PERSIST_VF_COUNT's arguments, as the check read them (numvfs -1: none) */
    struct hd_pci_addr remedy_pf;
    int remedy_numvfs;
    bool remedy_persisted;
    /* REACQUIRE's: the VM that holds the device and its owner (vm NULL: none) */
    char *remedy_vm;
    uid_t remedy_uid;
    gid_t remedy_gid;
    /* PERSIST_MEMBERS': the group members to persist (none: n 0) */
    struct hd_pci_addr *remedy_members;
    size_t remedy_nmembers;
};

struct hd_findings {
    atomic_int refcount;
    struct finding *v;
    size_t n, cap;
    int err; /* the first allocation failure: sticky */
};

struct hd_findings *hd_findings_new(void)
{
    struct hd_findings *f = calloc(1, sizeof(*f));

    if (f != NULL)
        hd_ref_init(&f->refcount);
    return f;
}

int hd_findings_add(struct hd_findings *f, enum hd_severity severity, const char *code,
                    const char *device, const char *fix, const char *fmt, ...)
{
    struct finding *grown, *e;
    char *message = NULL;
    va_list ap;
    int n;

    if (f->err < 0)
        return f->err;
    va_start(ap, fmt);
    n = vasprintf(&message, fmt, ap);
    va_end(ap);
    grown = n < 0 ? NULL : hd_array_grow(f->v, &f->cap, f->n, sizeof(*f->v), 8);
    if (grown == NULL) {
        free(n < 0 ? NULL : message);
        return f->err = -ENOMEM;
    }
    f->v = grown;
    e = &f->v[f->n];
    e->severity = severity;
    e->code = strdup(code);
    e->device = hd_strdup_or_null(device);
    e->message = message;
    e->fix = strdup(fix);
    e->remedy = HD_REMEDY_NONE;
    e->remedy_numvfs = -1;
    e->remedy_persisted = false;
    e->remedy_vm = NULL;
    e->remedy_members = NULL;
    e->remedy_nmembers = 0;
    if (e->code == NULL || e->fix == NULL || (device != NULL && e->device == NULL)) {
        free(e->code);
        free(e->device);
        free(e->message);
        free(e->fix);
        return f->err = -ENOMEM;
    }
    f->n++;
    return 0;
}

void hd_findings_set_remedy(struct hd_findings *f, enum hd_remedy remedy)
{
    if (f->err == 0 && f->n > 0)
        f->v[f->n - 1].remedy = remedy;
}

void hd_findings_set_remedy_vf_count(struct hd_findings *f, const struct hd_pci_addr *pf,
                                     int numvfs, bool persisted)
{
    if (f->err == 0 && f->n > 0) {
        f->v[f->n - 1].remedy_pf = *pf;
        f->v[f->n - 1].remedy_numvfs = numvfs;
        f->v[f->n - 1].remedy_persisted = persisted;
    }
}

void hd_findings_set_remedy_holder(struct hd_findings *f, const char *vm, uid_t uid, gid_t gid)
{
    struct finding *e;

    if (f->err != 0 || f->n == 0)
        return;
    e = &f->v[f->n - 1];
    free(e->remedy_vm);
    if ((e->remedy_vm = strdup(vm)) == NULL) {
        f->err = -ENOMEM;
        return;
    }
    e->remedy_uid = uid;
    e->remedy_gid = gid;
}

void hd_findings_set_remedy_members(struct hd_findings *f, const struct hd_pci_addr *members,
                                    size_t n)
{
    struct finding *e;

    if (f->err != 0 || f->n == 0 || n == 0)
        return;
    e = &f->v[f->n - 1];
    free(e->remedy_members);
    e->remedy_nmembers = 0;
    if ((e->remedy_members = malloc(n * sizeof(*members))) == NULL) {
        f->err = -ENOMEM;
        return;
    }
    memcpy(e->remedy_members, members, n * sizeof(*members));
    e->remedy_nmembers = n;
}

void hd_findings_set_error(struct hd_findings *f, int err)
{
    if (f->err == 0)
        f->err = err;
}

int hd_findings_error(const struct hd_findings *f)
{
    return f->err;
}

/* Worst first; equal ones keep the order they were found in (insertion sort: stable). */
void hd_findings_sort(struct hd_findings *f)
{
    for (size_t i = 1; i < f->n; i++) {
        struct finding e = f->v[i];
        size_t k = i;
        for (; k > 0 && f->v[k - 1].severity < e.severity; k--)
            f->v[k] = f->v[k - 1];
        f->v[k] = e;
    }
}

HD_EXPORT struct hd_findings *hd_findings_ref(struct hd_findings *f)
{
    if (f != NULL)
        hd_ref_take(&f->refcount);
    return f;
}

HD_EXPORT struct hd_findings *hd_findings_unref(struct hd_findings *f)
{
    if (f == NULL || !hd_ref_drop(&f->refcount))
        return NULL;
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].code);
        free(f->v[i].device);
        free(f->v[i].message);
        free(f->v[i].fix);
        free(f->v[i].remedy_vm);
        free(f->v[i].remedy_members);
    }
    free(f->v);
    free(f);
    return NULL;
}

HD_EXPORT size_t hd_findings_count(const struct hd_findings *f)
{
    return f != NULL ? f->n : 0;
}

HD_EXPORT size_t hd_findings_count_at_least(const struct hd_findings *f, enum hd_severity severity)
{
    size_t n = 0;

    for (size_t i = 0; f != NULL && i < f->n; i++)
        n += f->v[i].severity >= severity;
    return n;
}

static const struct finding *at(const struct hd_findings *f, size_t i)
{
    return f != NULL && i < f->n ? &f->v[i] : NULL;
}

HD_EXPORT enum hd_severity hd_findings_get_severity(const struct hd_findings *f, size_t i)
{
    return at(f, i) ? at(f, i)->severity : HD_SEVERITY_INFO;
}

HD_EXPORT const char *hd_findings_get_code(const struct hd_findings *f, size_t i)
{
    return at(f, i) ? at(f, i)->code : NULL;
}

HD_EXPORT const char *hd_findings_get_device(const struct hd_findings *f, size_t i)
{
    return at(f, i) ? at(f, i)->device : NULL;
}

HD_EXPORT const char *hd_findings_get_message(const struct hd_findings *f, size_t i)
{
    return at(f, i) ? at(f, i)->message : NULL;
}

HD_EXPORT const char *hd_findings_get_fix(const struct hd_findings *f, size_t i)
{
    return at(f, i) ? at(f, i)->fix : NULL;
}

HD_EXPORT enum hd_remedy hd_findings_get_remedy(const struct hd_findings *f, size_t i)
{
    return at(f, i) ? at(f, i)->remedy : HD_REMEDY_NONE;
}

HD_EXPORT int hd_findings_get_remedy_vf_count(const struct hd_findings *f, size_t i,
                                              struct hd_pci_addr *pf, int *numvfs,
                                              bool *persisted)
{
    const struct finding *e = at(f, i);

    if (e == NULL || e->remedy != HD_REMEDY_PERSIST_VF_COUNT || e->remedy_numvfs < 0)
        return -ENOENT;
    *pf = e->remedy_pf;
    *numvfs = e->remedy_numvfs;
    *persisted = e->remedy_persisted;
    return 0;
}

HD_EXPORT int hd_findings_get_remedy_holder(const struct hd_findings *f, size_t i,
                                           const char **vm, uid_t *uid, gid_t *gid)
{
    const struct finding *e = at(f, i);

    if (e == NULL || (e->remedy != HD_REMEDY_REACQUIRE && e->remedy != HD_REMEDY_RELEASE) ||
        e->remedy_vm == NULL)
        return -ENOENT;
    *vm = e->remedy_vm;
    *uid = e->remedy_uid;
    *gid = e->remedy_gid;
    return 0;
}

HD_EXPORT int hd_findings_get_remedy_members(const struct hd_findings *f, size_t i,
                                            const struct hd_pci_addr **members, size_t *count)
{
    const struct finding *e = at(f, i);

    if (e == NULL || e->remedy != HD_REMEDY_PERSIST_MEMBERS || e->remedy_nmembers == 0)
        return -ENOENT;
    *members = e->remedy_members;
    *count = e->remedy_nmembers;
    return 0;
}

HD_EXPORT const char *hd_severity_to_string(enum hd_severity severity)
{
    switch (severity) {
    case HD_SEVERITY_ERROR:
        return "error";
    case HD_SEVERITY_WARNING:
        return "warning";
    default:
        return "info";
    }
}

/* ---- kernel command-line advice ------------------------------------------------------------
 * The one place that says which parameter does what, checked against the kernel's
 * Documentation/admin-guide/kernel-parameters.txt: intel_iommu=on turns VT-d on (kernels built
 * without INTEL_IOMMU_DEFAULT_ON need it); the AMD IOMMU is on by default whenever the firmware
 * has an IVRS table, and amd_iommu= takes off, force_enable, fullflush, force_isolation,
 * pgtbl_v1/v2, irtcachedis, nohugepages but no "on" (the kernel logs "AMD-Vi: Unknown option -
 * 'on'"), so nothing is advised there. */

HD_EXPORT const char *hd_cmdline_advice(enum hd_cmdline_advice what, enum hd_iommu_vendor vendor)
{
    switch (what) {
    case HD_ADVICE_IOMMU_ON:
        return vendor == HD_IOMMU_VENDOR_INTEL ? "intel_iommu=on" : NULL;
    case HD_ADVICE_IOMMU_PT:
        return "iommu=pt";
    case HD_ADVICE_UNSAFE_INTERRUPTS:
        return "vfio_iommu_type1.allow_unsafe_interrupts=1";
    case HD_ADVICE_IOMMUFD_UNSAFE_INTERRUPTS:
        return "iommufd.allow_unsafe_interrupts=1";
    case HD_ADVICE_NOIOMMU_OFF:
        return "vfio.enable_unsafe_noiommu_mode=0";
    case HD_ADVICE_PCI_REALLOC:
        return "pci=realloc";
    case HD_ADVICE_NO_SYSFB:
        return "initcall_blacklist=sysfb_init";
    case HD_ADVICE_NOIOMMU_ON:
        return "vfio.enable_unsafe_noiommu_mode=1";
    }
    return NULL;
}
