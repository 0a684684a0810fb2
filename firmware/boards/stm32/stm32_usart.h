/*
 * The STM32 USART/LPUART of the L4, L4+, F7 and H7 series (one register
 * layout: RM0432, RM0385, RM0433), polled, 8N1, no FIFO, no interrupts.
 * Include after the CMSIS core header (it uses __IOM).
 */
#ifndef STM32_USART_H
#define STM32_USART_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    __IOM uint32_t CR1;  /* 0x00 */
    __IOM uint32_t CR2;  /* 0x04 */
    __IOM uint32_t CR3;  /* 0x08 */
    __IOM uint32_t BRR;  /* 0x0C */
    __IOM uint32_t GTPR; /* 0x10, USART only */
    __IOM uint32_t RTOR; /* 0x14, USART only */
    __OM uint32_t RQR;   /* 0x18 */
    __IM uint32_t ISR;   /* 0x1C */
    __OM uint32_t ICR;   /* 0x20 */
    __IM uint32_t RDR;   /* 0x24 */
    __IOM uint32_t TDR;  /* 0x28 */
} STM32_USART_TypeDef;

#define STM32_USART_CR1_UE (1u << 0)
#define STM32_USART_CR1_RE (1u << 2)
#define STM32_USART_CR1_TE (1u << 3)
#define STM32_USART_ISR_ERRORS 0xFu /* PE, FE, NE, ORE; cleared by the same bits in ICR */
#define STM32_USART_ISR_RXNE (1u << 5)
#define STM32_USART_ISR_TXE (1u << 7)

/* BRR for `baud` from kernel clock `hz`: hz / baud for a USART (16x
   oversampling), 256 * hz / baud for an LPUART; rounded to nearest. */
#define STM32_USART_BRR(hz, baud) ((uint32_t)(((uint64_t)(hz) + (baud) / 2u) / (baud)))
#define STM32_LPUART_BRR(hz, baud) ((uint32_t)((256u * (uint64_t)(hz) + (baud) / 2u) / (baud)))

/* Enables 8N1 TX and RX at `brr` (its kernel clock must already run). */
void stm32_usart_init(STM32_USART_TypeDef *usart, uint32_t brr);

/* Blocks until a byte has arrived. A line error (overrun, framing, noise,
   parity) is cleared, not reported: the protocol's CRC catches the damage. */
uint8_t stm32_usart_getc(STM32_USART_TypeDef *usart);

/* Blocks until every byte has been handed to the transmitter. */
void stm32_usart_write(STM32_USART_TypeDef *usart, const uint8_t *data, size_t len);

#endif /* STM32_USART_H */
