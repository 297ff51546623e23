/* virterror.h - libvirt's error reporting for hostdev's libvirt API subset. */
#ifndef HOSTDEV_VIRT_VIRTERROR_H
#define HOSTDEV_VIRT_VIRTERROR_H

#include <libvirt/libvirt.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VIR_ERR_NONE = 0,
    VIR_ERR_WARNING = 1,
    VIR_ERR_ERROR = 2,
} virErrorLevel;

/* Where an error comes from: the values libvirt uses (a subset). */
typedef enum {
    VIR_FROM_NONE = 0,
    VIR_FROM_XML = 5,
    VIR_FROM_NODEDEV = 22,
    VIR_FROM_URI = 45,
    VIR_FROM_DEVICE = 49,
} virErrorDomain;

typedef struct _virError virError;
typedef virError *virErrorPtr;
struct _virError {
    int code;      /* a virErrorNumber */
    int domain;    /* a virErrorDomain */
    char *message; /* human-readable, as libvirt formats it */
    virErrorLevel level;
    virConnectPtr conn; /* always NULL here (deprecated in libvirt) */
    virDomainPtr dom;   /* always NULL */
    char *str1;         /* extra information */
    char *str2;
    char *str3;
    int int1; /* the errno behind a system error, else 0 */
    int int2;
    virNetworkPtr net; /* always NULL */
};

/* Error codes: libvirt's values (a subset). */
typedef enum {
    VIR_ERR_OK = 0,
    VIR_ERR_INTERNAL_ERROR = 1,
    VIR_ERR_NO_MEMORY = 2,
    VIR_ERR_NO_SUPPORT = 3,
    VIR_ERR_NO_CONNECT = 5,
    VIR_ERR_INVALID_CONN = 6,
    VIR_ERR_INVALID_ARG = 8,
    VIR_ERR_OPERATION_FAILED = 9,
    VIR_ERR_XML_ERROR = 27,
    VIR_ERR_OPERATION_DENIED = 29, /* a write on a read-only connection */
    VIR_ERR_SYSTEM_ERROR = 38,
    VIR_ERR_INVALID_NODE_DEVICE = 52,
    VIR_ERR_NO_NODE_DEVICE = 53,
    VIR_ERR_OPERATION_INVALID = 55,
    VIR_ERR_CONFIG_UNSUPPORTED = 67,
} virErrorNumber;

/* Called with each error as it is raised. Without one, libvirt's default prints
 * "libvirt: Node Device Driver error : MESSAGE" on stderr; programs that report errors
 * themselves (virsh) install their own. Process-wide, as in libvirt. */
typedef void (*virErrorFunc)(void *userData, virErrorPtr error);
void virSetErrorFunc(void *userData, virErrorFunc handler);
void virDefaultErrorFunc(virErrorPtr err);

/* The last error of this thread, NULL when the last call succeeded. Owned by the library:
 * valid until the next call on this thread. */
virErrorPtr virGetLastError(void);
/* Its message, or "no error". */
const char *virGetLastErrorMessage(void);
void virResetLastError(void);
/* Copy the last error into @to (free its strings with virResetError); returns its code. */
int virCopyLastError(virErrorPtr to);
virErrorPtr virSaveLastError(void);
void virResetError(virErrorPtr err);
void virFreeError(virErrorPtr err);

#ifdef __cplusplus
}
#endif

#endif
