/* Board support for the MPS2 AN386 under QEMU: UART0, FPGAIO counter, semihosting exit. */
#include "ehd/ehd_board.h"

#include "mps2_an386.h"

void ehd_board_init(void)
{
    CMSDK_UART0->BAUDDIV = 16u;
    CMSDK_UART0->CTRL = CMSDK_UART_CTRL_TXRX_EN;
    (void)CMSDK_UART0->DATA; /* drop whatever the RX register holds */
}

uint8_t ehd_board_getc(void)
{
    while ((CMSDK_UART0->STATE & CMSDK_UART_STATE_RXFULL) == 0u) {
    }
    return (uint8_t)(CMSDK_UART0->DATA & 0xFFu);
}

void ehd_board_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((CMSDK_UART0->STATE & CMSDK_UART_STATE_TXFULL) != 0u) {
        }
        CMSDK_UART0->DATA = data[i];
    }
}

uint32_t ehd_board_ticks(void)
{
    return MPS2_FPGAIO->COUNTER;
}

uint32_t ehd_board_ticks_hz(void)
{
    return MPS2_SYSTEM_CLOCK_HZ;
}

const char *ehd_board_name(void)
{
    return "mps2-an386";
}

void ehd_board_exit(int code)
{
    /* SYS_EXIT_EXTENDED (0x20) with ADP_Stopped_ApplicationExit: QEMU exits with `code`. */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = 0x20u;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}
