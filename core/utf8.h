/* utf8.h - the length of one valid UTF-8 sequence: shared by the XML writer (core) and the
 * JSON writer (tools), which must both keep their output valid whatever bytes they get. */
#ifndef HOSTDEV_UTF8_H
#define HOSTDEV_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at @s (1..4), 0 when it is not one (stray continuation
 * byte, overlong form, surrogate, beyond U+10FFFF, cut short by the NUL). */
static inline size_t hd_utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
            return 0; /* overlong, or a surrogate */
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
            return 0; /* overlong, or beyond U+10FFFF */
        return 4;
    }
    return 0;
}

#endif
