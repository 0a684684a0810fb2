/* Polled driver for the Arm CMSDK APB UART. */
#include CMSIS_device_header

#include "cmsdk_uart.h"

void cmsdk_uart_init(CMSDK_UART_TypeDef *uart, uint32_t bauddiv)
{
    uart->BAUDDIV = bauddiv;
    uart->CTRL = CMSDK_UART_CTRL_TXRX_EN;
    (void)uart->DATA; /* drop whatever the RX register holds */
}

uint8_t cmsdk_uart_getc(CMSDK_UART_TypeDef *uart)
{
    while ((uart->STATE & CMSDK_UART_STATE_RXFULL) == 0u) {
    }
    return (uint8_t)(uart->DATA & 0xFFu);
}

void cmsdk_uart_write(CMSDK_UART_TypeDef *uart, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((uart->STATE & CMSDK_UART_STATE_TXFULL) != 0u) {
        }
        uart->DATA = data[i];
    }
}
