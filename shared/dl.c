/* dl.c - optional shared libraries opened on first need (see dl.h for why). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "shared.h"

void *hd_dl_open(const char *soname, const struct hd_dl_sym *syms, size_t n, void *table, char *why,
                 size_t whysize)
{
    /* RTLD_LOCAL: its symbols stay out of the global namespace. RTLD_NODELETE: once loaded it
     * stays for the process, so the next command's dlopen() is a reference count, not a load. */
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    const char *e;

    if (h == NULL) {
        e = dlerror();
        snprintf(why, whysize, "%s", e ? e : soname);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        void *fn = dlsym(h, syms[i].name);
        if (fn == NULL) {
            snprintf(why, whysize, "%s has no %s", soname, syms[i].name);
            dlclose(h);
            return NULL;
        }
        /* POSIX guarantees a data pointer can hold a function's address; memcpy keeps the
         * compiler's object/function pointer rules out of it. */
        memcpy((char *)table + syms[i].offset, &fn, sizeof(fn));
    }
    return h;
}

void hd_dl_close(void *handle)
{
    if (handle != NULL)
        dlclose(handle);
}
