/* Console output of the test images over semihosting, without a C library's printf. */
#ifndef EHD_SEMIHOST_PRINT_H
#define EHD_SEMIHOST_PRINT_H

#include <stdint.h>

/* Semihosting SYS_WRITE0: a NUL-terminated string to the host's console. */
static inline void write0(const char *s)
{
    register uint32_t r0 __asm__("r0") = 0x04u;
    register const char *r1 __asm__("r1") = s;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

static inline char *put_int(char *p, int32_t v)
{
    char digits[12];
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    int n = 0;
    do {
        digits[n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0u);
    if (v < 0) {
        *p++ = '-';
    }
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

static inline char *put_str(char *p, const char *s)
{
    while (*s != '\0') {
        *p++ = *s++;
    }
    return p;
}

#endif /* EHD_SEMIHOST_PRINT_H */
