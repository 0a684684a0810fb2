/*
 * Device header for the STM32H743ZI (Cortex-M7, double-precision FPU, 16 KB
 * instruction and data caches) on the Nucleo-H743ZI: the configuration
 * CMSIS-Core's core_cm7.h expects and the few registers the board support
 * uses, at the addresses and offsets of RM0433 (reference manual of the
 * STM32H742/743/750/753). ST's own header (STM32CubeH7) is not needed.
 */
#ifndef STM32H743_H
#define STM32H743_H

#include <stddef.h>

#include "core_irqn.h"

#define __CM7_REV 0x0101U /* r1p1 */
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
    __IOM uint32_t CR;        /* 0x00 */
    uint32_t reserved0[3];    /* 0x04-0x0C */
    __IOM uint32_t CFGR;      /* 0x10 */
    uint32_t reserved1;       /* 0x14 */
    __IOM uint32_t D1CFGR;    /* 0x18 */
    __IOM uint32_t D2CFGR;    /* 0x1C */
    __IOM uint32_t D3CFGR;    /* 0x20 */
    uint32_t reserved2;       /* 0x24 */
    __IOM uint32_t PLLCKSELR; /* 0x28 */
    __IOM uint32_t PLLCFGR;   /* 0x2C */
    __IOM uint32_t PLL1DIVR;  /* 0x30 */
    uint32_t reserved3[43];   /* 0x34-0xDC */
    __IOM uint32_t AHB4ENR;   /* 0xE0 */
    __IOM uint32_t APB3ENR;   /* 0xE4 */
    __IOM uint32_t APB1LENR;  /* 0xE8 */
} RCC_TypeDef;

typedef struct {
    __IOM uint32_t CR1;   /* 0x00 */
    __IM uint32_t CSR1;   /* 0x04 */
    __IOM uint32_t CR2;   /* 0x08 */
    __IOM uint32_t CR3;   /* 0x0C */
    __IOM uint32_t CPUCR; /* 0x10 */
    uint32_t reserved0;   /* 0x14 */
    __IOM uint32_t D3CR;  /* 0x18 */
} PWR_TypeDef;

typedef struct {
    __IOM uint32_t ACR; /* 0x00 */
} FLASH_TypeDef;

_Static_assert(offsetof(RCC_TypeDef, PLL1DIVR) == 0x30u, "RM0433 RCC_PLL1DIVR");
_Static_assert(offsetof(RCC_TypeDef, AHB4ENR) == 0xE0u, "RM0433 RCC_AHB4ENR");
_Static_assert(offsetof(RCC_TypeDef, APB1LENR) == 0xE8u, "RM0433 RCC_APB1LENR");
_Static_assert(offsetof(PWR_TypeDef, D3CR) == 0x18u, "RM0433 PWR_D3CR");
_Static_assert(offsetof(STM32_USART_TypeDef, TDR) == 0x28u, "RM0433 USART_TDR");
_Static_assert(offsetof(STM32_GPIO_TypeDef, AFR) == 0x20u, "RM0433 GPIOx_AFRL");

#define USART3 ((STM32_USART_TypeDef *)0x40004800UL)
#define FLASH ((FLASH_TypeDef *)0x52002000UL)
#define GPIOD ((STM32_GPIO_TypeDef *)0x58020C00UL)
#define RCC ((RCC_TypeDef *)0x58024400UL)
#define PWR ((PWR_TypeDef *)0x58024800UL)

#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_CFGR_SW_Msk (7u << 0)
#define RCC_CFGR_SW_PLL1 (3u << 0)
#define RCC_CFGR_SWS_Msk (7u << 3)
#define RCC_CFGR_SWS_PLL1 (3u << 3)
#define RCC_D1CFGR_HPRE_DIV2 (8u << 0)
#define RCC_D1CFGR_D1PPRE_DIV2 (4u << 4)
#define RCC_D2CFGR_D2PPRE1_DIV2 (4u << 4)
#define RCC_D2CFGR_D2PPRE2_DIV2 (4u << 8)
#define RCC_D3CFGR_D3PPRE_DIV2 (4u << 4)
#define RCC_PLLCKSELR_PLLSRC_Msk (3u << 0) /* 00: HSI */
#define RCC_PLLCKSELR_DIVM1_Msk (0x3Fu << 4)
#define RCC_PLLCKSELR_DIVM1_Pos 4u
#define RCC_PLLCFGR_PLL1_Msk 0xFu /* PLL1FRACEN 0, PLL1VCOSEL 1 (0: wide VCO), PLL1RGE [3:2] */
#define RCC_PLLCFGR_PLL1RGE_2_4MHZ (1u << 2)
#define RCC_PLLCFGR_DIVP1EN (1u << 16)
#define RCC_PLL1DIVR_DIVP1_Pos 9u  /* P - 1 */
#define RCC_PLL1DIVR_DIVQ1_Pos 16u /* Q - 1 */
#define RCC_PLL1DIVR_DIVR1_Pos 24u /* R - 1 */
#define RCC_AHB4ENR_GPIODEN (1u << 3)
#define RCC_APB1LENR_USART3EN (1u << 18)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_CR3_SUPPLY_Msk 7u /* BYPASS 0, LDOEN 1, SCUEN 2 */
#define PWR_CR3_LDOEN (1u << 1)
#define PWR_D3CR_VOS_Msk (3u << 14)
#define PWR_D3CR_VOS_SCALE1 (3u << 14)
#define PWR_D3CR_VOSRDY (1u << 13)
#define FLASH_ACR_Msk 0x3Fu /* LATENCY [3:0], WRHIGHFREQ [5:4] */
#define FLASH_ACR_WRHIGHFREQ_Pos 4u

/* ehd_board.h over stm32/nucleo_board.c */
#define NUCLEO_BOARD_NAME "nucleo-h743zi"
#define NUCLEO_CORE_HZ 400000000u
#define NUCLEO_VCP USART3

#endif /* STM32H743_H */
