/* Hexadecimal digits, read by the campaign's image hashes and the server's percent-decoding. */
#ifndef UM_CORE_HEX_H
#define UM_CORE_HEX_H

/* The value of one hex digit (either case), or -1 when c is not one. */
static inline int um_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
