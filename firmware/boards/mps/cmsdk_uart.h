/*
 * Arm CMSDK APB UART, as on the MPS2 and MPS3 FPGA images: polled, 8N1. QEMU
 * needs BAUDDIV >= 16 and ignores the baud rate; the UART holds one byte each way.
 * Include after the CMSIS core header (it uses __IOM).
 */
#ifndef CMSDK_UART_H
#define CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    __IOM uint32_t DATA;
    __IOM uint32_t STATE; /* bit 0: TX full, bit 1: RX full */
    __IOM uint32_t CTRL;  /* bit 0: TX enable, bit 1: RX enable */
    __IOM uint32_t INTSTATUS;
    __IOM uint32_t BAUDDIV; /* >= 16 */
} CMSDK_UART_TypeDef;

#define CMSDK_UART_STATE_TXFULL (1u << 0)
#define CMSDK_UART_STATE_RXFULL (1u << 1)
#define CMSDK_UART_CTRL_TXRX_EN 3u

/* Enables TX and RX with `bauddiv` (UART clock / baud rate) and drops a stale RX byte. */
void cmsdk_uart_init(CMSDK_UART_TypeDef *uart, uint32_t bauddiv);

/* Blocks until a byte has arrived. */
uint8_t cmsdk_uart_getc(CMSDK_UART_TypeDef *uart);

/* Blocks until every byte has been handed to the UART. */
void cmsdk_uart_write(CMSDK_UART_TypeDef *uart, const uint8_t *data, size_t len);

#endif /* CMSDK_UART_H */
