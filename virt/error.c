/* error.c - libvirt's per-thread last error: virGetLastError and friends. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virt.h"

/* Per thread, as libvirt keeps it. The message buffer lives with the error. */
static _Thread_local virError last;
static _Thread_local char last_message[1024];
/* The failed libhostdev call's message and reason, copied off the shared context while the
 * connection was locked (virt_unlock). */
static _Thread_local char lib_message[512];
static _Thread_local enum hd_reason lib_reason;

/* The error handler is process-wide in libvirt; a program sets it once, at start. The lock
 * keeps the function and its data a pair when another thread sets them meanwhile. */
static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static virErrorFunc handler;
static void *handler_data;

/* libvirt's message templates for the codes this library raises. */
static const char *template_for(int code)
{
    switch (code) {
    case VIR_ERR_INTERNAL_ERROR:
        return "internal error: %s";
    case VIR_ERR_NO_MEMORY:
        return "out of memory%s";
    case VIR_ERR_NO_SUPPORT:
        return "this function is not supported by the connection driver: %s";
    case VIR_ERR_NO_CONNECT:
        return "no connection driver available for %s";
    case VIR_ERR_INVALID_CONN:
        return "invalid connection pointer in %s";
    case VIR_ERR_INVALID_ARG:
        return "invalid argument: %s";
    case VIR_ERR_OPERATION_FAILED:
        return "operation failed: %s";
    case VIR_ERR_INVALID_NODE_DEVICE:
        return "invalid node device pointer in %s";
    case VIR_ERR_NO_NODE_DEVICE:
        return "Node device not found: %s";
    case VIR_ERR_OPERATION_INVALID:
        return "Requested operation is not valid: %s";
    case VIR_ERR_OPERATION_DENIED:
        return "operation forbidden: %s";
    case VIR_ERR_XML_ERROR:
        return "XML error: %s";
    case VIR_ERR_CONFIG_UNSUPPORTED:
        return "unsupported configuration: %s";
    default:
        return "%s"; /* VIR_ERR_SYSTEM_ERROR: the detail is the whole message */
    }
}

void virt_reset(void)
{
    memset(&last, 0, sizeof(last));
    last_message[0] = '\0';
}

static void set_error(int code, int errnum, const char *detail)
{
    virErrorFunc fn;
    void *data;

    virt_reset();
    last.code = code;
    last.domain = VIR_FROM_NODEDEV;
    last.level = VIR_ERR_ERROR;
    last.int1 = errnum;
    snprintf(last_message, sizeof(last_message), template_for(code), detail);
    last.message = last_message;
    /* Called unlocked: a handler may call into the library, or set another handler. */
    pthread_mutex_lock(&handler_lock);
    fn = handler;
    data = handler_data;
    pthread_mutex_unlock(&handler_lock);
    if (fn != NULL)
        fn(data, &last);
    else
        virDefaultErrorFunc(&last);
}

/* libvirt's names for where an error comes from, as its default handler prints them. */
static const char *domain_name(int domain)
{
    switch (domain) {
    case VIR_FROM_NODEDEV:
        return "Node Device Driver";
    case VIR_FROM_XML:
        return "XML Util";
    case VIR_FROM_URI:
        return "URI Utils";
    case VIR_FROM_DEVICE:
        return "Device Config";
    default:
        return "";
    }
}

VIR_EXPORT void virDefaultErrorFunc(virErrorPtr err)
{
    size_t len;

    if (err == NULL || err->code == VIR_ERR_OK || err->message == NULL)
        return;
    len = strlen(err->message);
    fprintf(stderr, "libvirt: %s error : %s%s", domain_name(err->domain), err->message,
            len > 0 && err->message[len - 1] == '\n' ? "" : "\n");
}

VIR_EXPORT void virSetErrorFunc(void *userData, virErrorFunc fn)
{
    pthread_mutex_lock(&handler_lock);
    handler = fn;
    handler_data = userData;
    pthread_mutex_unlock(&handler_lock);
}

void virt_error(int code, const char *fmt, ...)
{
    char detail[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    set_error(code, 0, detail);
}

void virt_keep_lib_error(struct hd_ctx *ctx)
{
    snprintf(lib_message, sizeof(lib_message), "%s", hd_ctx_last_error(ctx));
    lib_reason = hd_ctx_last_reason(ctx);
}

enum hd_reason virt_lib_reason(void)
{
    return lib_reason;
}

void virt_lib_error(int code, int err)
{
    if (err == -ENOMEM) {
        set_error(VIR_ERR_NO_MEMORY, ENOMEM, "");
        return;
    }
    set_error(code, err < 0 ? -err : err,
              lib_message[0] ? lib_message : strerror(err < 0 ? -err : err));
}

VIR_EXPORT virErrorPtr virGetLastError(void)
{
    return last.code == VIR_ERR_OK ? NULL : &last;
}

VIR_EXPORT const char *virGetLastErrorMessage(void)
{
    return last.code == VIR_ERR_OK ? "no error" : last.message;
}

VIR_EXPORT void virResetLastError(void)
{
    virt_reset();
}

VIR_EXPORT int virCopyLastError(virErrorPtr to)
{
    if (to == NULL)
        return -1;
    memset(to, 0, sizeof(*to));
    if (last.code == VIR_ERR_OK)
        return 0;
    *to = last;
    to->message = strdup(last_message);
    return to->code;
}

VIR_EXPORT virErrorPtr virSaveLastError(void)
{
    virErrorPtr copy = calloc(1, sizeof(*copy));

    if (copy != NULL)
        virCopyLastError(copy);
    return copy;
}

VIR_EXPORT void virResetError(virErrorPtr err)
{
    if (err == NULL)
        return;
    free(err->message);
    free(err->str1);
    free(err->str2);
    free(err->str3);
    memset(err, 0, sizeof(*err));
}

VIR_EXPORT void virFreeError(virErrorPtr err)
{
    virResetError(err);
    free(err);
}
