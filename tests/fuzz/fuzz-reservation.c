/* fuzz-reservation.c - fuzz target: the reservation config parser (ROOT/etc/hostdev.d/ *.conf)
 * and hostdev.reserve= on the kernel command line (core/reserve-config.c). */
#include <stdio.h>

#include <hostdev/hostdev.h>

#include "fuzz.h"

static bool same_entry(const struct hd_reserve_entry *a, const struct hd_reserve_entry *b)
{
    if (a->sel.kind != b->sel.kind || a->numvfs != b->numvfs || a->noiommu != b->noiommu ||
        (a->driver == NULL) != (b->driver == NULL) ||
        (a->driver != NULL && strcmp(a->driver, b->driver) != 0))
        return false;
    if (a->sel.kind == HD_SELECTOR_ADDR)
        return hd_pci_addr_equal(&a->sel.addr, &b->sel.addr);
    return a->sel.vendor == b->sel.vendor && a->sel.device == b->sel.device;
}

/* Every accepted entry formats to a line that parses back to the same entry. */
static void round_trip(const struct hd_reserve_entry *e)
{
    struct hd_reserve_config *again;
    char *line;

    if (hd_reserve_entry_format(e, &line) < 0)
        return;
    if (hd_reserve_config_new(&again) == 0) {
        if (hd_reserve_config_parse(again, line, strlen(line), "again.conf") != 0 ||
            hd_reserve_config_count(again) != 1 ||
            !same_entry(e, hd_reserve_config_get(again, 0))) {
            fprintf(stderr, "round trip lost '%s'\n", line);
            abort();
        }
        hd_reserve_config_unref(again);
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hd_reserve_config *config;
    struct hd_cmdline *cmdline = NULL;
    char *text;

    if (hd_reserve_config_new(&config) < 0)
        return 0;
    /* The file parser takes a length: no NUL, so that ASan sees any read past the end. */
    hd_reserve_config_parse(config, (const char *)data, size, "etc/hostdev.d/fuzz.conf");
    /* The same bytes as a kernel command line. */
    if ((text = fuzz_str(data, size)) != NULL && hd_cmdline_new_from_string(text, &cmdline) == 0)
        hd_reserve_config_add_cmdline(config, cmdline);
    for (size_t i = 0; i < hd_reserve_config_get_error_count(config); i++) {
        if (strchr(hd_reserve_config_get_error(config, i), '\n') != NULL)
            abort(); /* each error is one line */
    }
    for (size_t i = 0; i < hd_reserve_config_count(config); i++)
        round_trip(hd_reserve_config_get(config, i));
    hd_cmdline_unref(cmdline);
    free(text);
    hd_reserve_config_unref(config);
    return 0;
}
