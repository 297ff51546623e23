/* fuzz-ueventmsg.c - fuzz target: one message of the kernel's uevent netlink socket, as
 * hd_monitor_next() receives it (core/monitor.c). Any bytes can arrive there from the kernel's
 * group, so the parser must reject, never overrun. */
#include <string.h>

#include "internal.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hd_uevent ev;
    /* A copy of exactly @size bytes: ASan then sees any read past the message. */
    char *msg = malloc(size ? size : 1);

    if (msg == NULL)
        return 0;
    memcpy(msg, data, size);
    if (hd_uevent_parse(msg, size, &ev) == 0) {
        /* What was accepted is whole and terminated. */
        fuzz_sink += strlen(ev.devpath) + strlen(ev.subsystem) + strlen(ev.driver) +
                     strlen(ev.action_name) + strlen(ev.slot);
        if (ev.devpath[0] != '/' || ev.subsystem[0] == '\0')
            abort();
    }
    free(msg);
    return 0;
}
