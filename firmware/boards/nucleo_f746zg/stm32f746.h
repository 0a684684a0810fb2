/*
 * Device header for the STM32F746ZG (Cortex-M7, single-precision FPU, 4 KB
 * instruction and data caches) on the Nucleo-F746ZG: the configuration
 * CMSIS-Core's core_cm7.h expects and the few registers the board support
 * uses, at the addresses and offsets of RM0385 (reference manual of the
 * STM32F75x/F74x). ST's own header (STM32CubeF7) is not needed.
 */
#ifndef STM32F746_H
#define STM32F746_H

#include <stddef.h>

#include "core_irqn.h"

#define __CM7_REV 0x0001U /* r0p1 */
#define __FPU_PRESENT 1U
#define __MPU_PRESENT 1U
#define __ICACHE_PRESENT 1U
#define __DCACHE_PRESENT 1U
#define __DTCM_PRESENT 1U
#define __VTOR_PRESENT 1U
#define __NVIC_PRIO_BITS 4U
#define __Vendor_SysTickConfig 0U

#include "core_cm7.h"

#include "stm32_gpio.h"
#include "stm32_usart.h"

typedef struct {
    __IOM uint32_t CR;      /* 0x00 */
    __IOM uint32_t PLLCFGR; /* 0x04 */
    __IOM uint32_t CFGR;    /* 0x08 */
    uint32_t reserved0[9];  /* 0x0C-0x2C */
    __IOM uint32_t AHB1ENR; /* 0x30 */
    __IOM uint32_t AHB2ENR; /* 0x34 */
    __IOM uint32_t AHB3ENR; /* 0x38 */
    uint32_t reserved1;     /* 0x3C */
    __IOM uint32_t APB1ENR; /* 0x40 */
    __IOM uint32_t APB2ENR; /* 0x44 */
} RCC_TypeDef;

typedef struct {
    __IOM uint32_t CR1; /* 0x00 */
    __IM uint32_t CSR1; /* 0x04 */
} PWR_TypeDef;

typedef struct {
    __IOM uint32_t ACR; /* 0x00 */
} FLASH_TypeDef;

_Static_assert(offsetof(RCC_TypeDef, AHB1ENR) == 0x30u, "RM0385 RCC_AHB1ENR");
_Static_assert(offsetof(RCC_TypeDef, APB1ENR) == 0x40u, "RM0385 RCC_APB1ENR");
_Static_assert(offsetof(STM32_USART_TypeDef, TDR) == 0x28u, "RM0385 USART_TDR");
_Static_assert(offsetof(STM32_GPIO_TypeDef, AFR) == 0x20u, "RM0385 GPIOx_AFRL");

#define PWR ((PWR_TypeDef *)0x40007000UL)
#define USART3 ((STM32_USART_TypeDef *)0x40004800UL)
#define GPIOD ((STM32_GPIO_TypeDef *)0x40020C00UL)
#define RCC ((RCC_TypeDef *)0x40023800UL)
#define FLASH ((FLASH_TypeDef *)0x40023C00UL)

#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR_FIELDS 0x0F437FFFu /* PLLM [5:0], PLLN [14:6], PLLP [17:16], PLLSRC 22, PLLQ [27:24] */
#define RCC_PLLCFGR_PLLN_Pos 6u
#define RCC_PLLCFGR_PLLP_Pos 16u /* 0: /2 */
#define RCC_PLLCFGR_PLLQ_Pos 24u
#define RCC_CFGR_SW_Msk (3u << 0)
#define RCC_CFGR_SW_PLL (2u << 0)
#define RCC_CFGR_SWS_Msk (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_PRE_Msk 0xFCF0u /* HPRE [7:4], PPRE1 [12:10], PPRE2 [15:13] */
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)
#define RCC_AHB1ENR_GPIODEN (1u << 3)
#define RCC_APB1ENR_USART3EN (1u << 18)
#define RCC_APB1ENR_PWREN (1u << 28)
#define PWR_CR1_VOS_Msk (3u << 14)
#define PWR_CR1_VOS_SCALE1 (3u << 14)
#define PWR_CR1_ODEN (1u << 16)
#define PWR_CR1_ODSWEN (1u << 17)
#define PWR_CSR1_ODRDY (1u << 16)
#define PWR_CSR1_ODSWRDY (1u << 17)
#define FLASH_ACR_LATENCY_Msk 0xFu

/* ehd_board.h over stm32/nucleo_board.c */
#define NUCLEO_BOARD_NAME "nucleo-f746zg"
#define NUCLEO_CORE_HZ 216000000u
#define NUCLEO_VCP USART3

#endif /* STM32F746_H */
