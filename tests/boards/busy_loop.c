/*
 * Counter check for a board layer: times a loop of exactly 2 * BUSY_LOOP_ITERATIONS
 * instructions (subs + bne) with ehd_board_ticks(), prints
 * "ticks=<T> hz=<ehd_board_ticks_hz()>\n" on the host UART, then exits with 0.
 */
#include "ehd/ehd_board.h"

#define BUSY_LOOP_ITERATIONS 1000000u

static void put_u32(uint32_t v)
{
    char buf[10];
    size_t n = 0;
    do {
        buf[sizeof buf - 1 - n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    ehd_board_write((const uint8_t *)&buf[sizeof buf - n], n);
}

int main(void)
{
    ehd_board_init();
    uint32_t count = BUSY_LOOP_ITERATIONS;
    const uint32_t t0 = ehd_board_ticks();
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(count) : : "cc");
    const uint32_t t1 = ehd_board_ticks();
    ehd_board_write((const uint8_t *)"ticks=", 6);
    put_u32(t1 - t0);
    ehd_board_write((const uint8_t *)" hz=", 4);
    put_u32(ehd_board_ticks_hz());
    ehd_board_write((const uint8_t *)"\n", 1);
    ehd_board_exit(0);
}
