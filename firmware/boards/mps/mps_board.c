/*
 * ehd_board.h for the Arm MPS2/MPS3 FPGA images under QEMU: UART0 to the host,
 * the FPGAIO counter, semihosting exit. The image's addresses, counter clock
 * and name come from its device header (MPS_UART0, MPS_FPGAIO,
 * MPS_COUNTER_HZ, MPS_BOARD_NAME).
 */
#include "ehd/ehd_board.h"

#include CMSIS_device_header

void ehd_board_init(void)
{
    cmsdk_uart_init(MPS_UART0, 16u);
}

uint8_t ehd_board_getc(void)
{
    return cmsdk_uart_getc(MPS_UART0);
}

void ehd_board_write(const uint8_t *data, size_t len)
{
    cmsdk_uart_write(MPS_UART0, data, len);
}

uint32_t ehd_board_ticks(void)
{
    return MPS_FPGAIO->COUNTER;
}

uint32_t ehd_board_ticks_hz(void)
{
    return MPS_COUNTER_HZ;
}

const char *ehd_board_name(void)
{
    return MPS_BOARD_NAME;
}
