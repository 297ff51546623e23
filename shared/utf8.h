/* utf8.h - one valid UTF-8 sequence, its length, its code point and whether it is a control:
 * shared by the XML writer (core) and the JSON and text writers (tools), which must keep
 * their output valid and inert whatever bytes they get. */
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

/* The code point of the valid @n-byte sequence at @s (hd_utf8_len() said @n). */
static inline unsigned long hd_utf8_decode(const unsigned char *s, size_t n)
{
    static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    unsigned long cp = s[0] & lead_mask[n];

    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    return cp;
}

/* Characters that act on whoever displays them rather than show: C1 controls (U+009B opens
 * an escape sequence on some terminals) and the bidirectional controls that reorder what
 * follows (U+202E and friends). Writers escape them as they do C0 controls. */
static inline int hd_unicode_is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

#endif
