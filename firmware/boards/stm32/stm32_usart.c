/* Polled driver for the STM32 USART/LPUART (L4/L4+/F7/H7 register layout). */
#include CMSIS_device_header

#include "stm32_usart.h"

void stm32_usart_init(STM32_USART_TypeDef *usart, uint32_t brr)
{
    usart->CR1 = 0u; /* disabled while configured; 8 data bits, no parity, 16x oversampling */
    usart->CR2 = 0u; /* 1 stop bit */
    usart->CR3 = 0u;
    usart->BRR = brr;
    usart->CR1 = STM32_USART_CR1_TE | STM32_USART_CR1_RE;
    usart->CR1 |= STM32_USART_CR1_UE;
}

uint8_t stm32_usart_getc(STM32_USART_TypeDef *usart)
{
    for (;;) {
        const uint32_t isr = usart->ISR;
        if ((isr & STM32_USART_ISR_ERRORS) != 0u) {
            usart->ICR = isr & STM32_USART_ISR_ERRORS; /* an overrun would stop reception */
        }
        if ((isr & STM32_USART_ISR_RXNE) != 0u) {
            return (uint8_t)(usart->RDR & 0xFFu);
        }
    }
}

void stm32_usart_write(STM32_USART_TypeDef *usart, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((usart->ISR & STM32_USART_ISR_TXE) == 0u) {
        }
        usart->TDR = data[i];
    }
}
