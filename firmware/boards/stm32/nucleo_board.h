/* What a Nucleo board's board.c gets from stm32/nucleo_board.c. */
#ifndef NUCLEO_BOARD_H
#define NUCLEO_BOARD_H

#include <stdint.h>

#include CMSIS_device_header

/* Hands `tx_pin` and `rx_pin` of `port` to the VCP UART (alternate function
   `af`) and starts the UART, 8N1 at `brr` (its bus clock must already run). */
void nucleo_vcp_start(STM32_GPIO_TypeDef *port, uint32_t tx_pin, uint32_t rx_pin, uint32_t af, uint32_t brr);

/* Enables the DWT cycle counter (CYCCNT, the board's ehd_board_ticks) from 0. */
void nucleo_cycle_counter_start(void);

#endif /* NUCLEO_BOARD_H */
