/*
 * STM32 GPIO port (same layout on L4, L4+, F7 and H7) and the one thing the
 * boards do with it: hand a pin to a peripheral (alternate function).
 * Include after the CMSIS core header (it uses __IOM).
 */
#ifndef STM32_GPIO_H
#define STM32_GPIO_H

#include <stdint.h>

typedef struct {
    __IOM uint32_t MODER;   /* 0x00: 2 bits per pin, 10 = alternate function */
    __IOM uint32_t OTYPER;  /* 0x04 */
    __IOM uint32_t OSPEEDR; /* 0x08 */
    __IOM uint32_t PUPDR;   /* 0x0C: 2 bits per pin, 01 = pull-up */
    __IM uint32_t IDR;      /* 0x10 */
    __IOM uint32_t ODR;     /* 0x14 */
    __OM uint32_t BSRR;     /* 0x18 */
    __IOM uint32_t LCKR;    /* 0x1C */
    __IOM uint32_t AFR[2];  /* 0x20, 0x24: 4 bits per pin, pins 0-7 then 8-15 */
} STM32_GPIO_TypeDef;

/* Connects `pin` (0-15) of `port` to alternate function `af`, with a pull-up
   (an idle UART line is high; the pull-up keeps an unconnected RX quiet). */
static inline void stm32_gpio_set_af(STM32_GPIO_TypeDef *port, uint32_t pin, uint32_t af)
{
    const uint32_t shift2 = 2u * pin, shift4 = 4u * (pin & 7u);
    port->AFR[pin >> 3] = (port->AFR[pin >> 3] & ~(0xFu << shift4)) | (af << shift4);
    port->PUPDR = (port->PUPDR & ~(3u << shift2)) | (1u << shift2);
    port->MODER = (port->MODER & ~(3u << shift2)) | (2u << shift2);
}

#endif /* STM32_GPIO_H */
