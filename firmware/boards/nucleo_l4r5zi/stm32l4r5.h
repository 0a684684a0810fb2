/*
 * Device header for the STM32L4R5ZI (Cortex-M4F) on the Nucleo-L4R5ZI: the
 * configuration CMSIS-Core's core_cm4.h expects and the few registers the
 * board support uses, at the addresses and offsets of RM0432 (reference
 * manual of the STM32L4+ series). ST's own header (STM32CubeL4) is not needed.
 */
#ifndef STM32L4R5_H
#define STM32L4R5_H

#include <stddef.h>

#include "core_irqn.h"

#define __CM4_REV 0x0001U
#define __FPU_PRESENT 1U
#define __MPU_PRESENT 1U
#define __VTOR_PRESENT 1U
#define __NVIC_PRIO_BITS 4U
#define __Vendor_SysTickConfig 0U

#include "core_cm4.h"

#include "stm32_gpio.h"
#include "stm32_usart.h"

typedef struct {
    __IOM uint32_t CR;       /* 0x00 */
    __IOM uint32_t ICSCR;    /* 0x04 */
    __IOM uint32_t CFGR;     /* 0x08 */
    __IOM uint32_t PLLCFGR;  /* 0x0C */
    uint32_t reserved0[14];  /* 0x10-0x44 */
    __IOM uint32_t AHB1ENR;  /* 0x48 */
    __IOM uint32_t AHB2ENR;  /* 0x4C */
    __IOM uint32_t AHB3ENR;  /* 0x50 */
    uint32_t reserved1;      /* 0x54 */
    __IOM uint32_t APB1ENR1; /* 0x58 */
    __IOM uint32_t APB1ENR2; /* 0x5C */
    __IOM uint32_t APB2ENR;  /* 0x60 */
} RCC_TypeDef;

typedef struct {
    __IOM uint32_t CR1;     /* 0x00 */
    __IOM uint32_t CR2;     /* 0x04 */
    __IOM uint32_t CR3;     /* 0x08 */
    __IOM uint32_t CR4;     /* 0x0C */
    __IM uint32_t SR1;      /* 0x10 */
    __IM uint32_t SR2;      /* 0x14 */
    uint32_t reserved0[26]; /* 0x18-0x7C */
    __IOM uint32_t CR5;     /* 0x80 */
} PWR_TypeDef;

typedef struct {
    __IOM uint32_t ACR; /* 0x00 */
} FLASH_TypeDef;

_Static_assert(offsetof(RCC_TypeDef, AHB2ENR) == 0x4Cu, "RM0432 RCC_AHB2ENR");
_Static_assert(offsetof(RCC_TypeDef, APB1ENR2) == 0x5Cu, "RM0432 RCC_APB1ENR2");
_Static_assert(offsetof(PWR_TypeDef, CR5) == 0x80u, "RM0432 PWR_CR5");
_Static_assert(offsetof(STM32_USART_TypeDef, TDR) == 0x28u, "RM0432 LPUART_TDR");
_Static_assert(offsetof(STM32_GPIO_TypeDef, AFR) == 0x20u, "RM0432 GPIOx_AFRL");

#define PWR ((PWR_TypeDef *)0x40007000UL)
#define LPUART1 ((STM32_USART_TypeDef *)0x40008000UL)
#define RCC ((RCC_TypeDef *)0x40021000UL)
#define FLASH ((FLASH_TypeDef *)0x40022000UL)
#define GPIOG ((STM32_GPIO_TypeDef *)0x48001800UL)

#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_Msk (3u << 0)
#define RCC_CFGR_SW_PLL (3u << 0)
#define RCC_CFGR_SWS_Msk (3u << 2)
#define RCC_CFGR_SWS_PLL (3u << 2)
#define RCC_CFGR_HPRE_Msk (0xFu << 4)
#define RCC_CFGR_HPRE_DIV2 (0x8u << 4)
#define RCC_PLLCFGR_PLLSRC_MSI (1u << 0)
#define RCC_PLLCFGR_PLLM_Pos 4u /* M - 1 */
#define RCC_PLLCFGR_PLLN_Pos 8u
#define RCC_PLLCFGR_PLLREN (1u << 24)
#define RCC_PLLCFGR_PLLR_Pos 25u /* 0: /2 */
#define RCC_AHB2ENR_GPIOGEN (1u << 6)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define RCC_APB1ENR2_LPUART1EN (1u << 0)
#define PWR_CR2_IOSV (1u << 9)
#define PWR_CR5_R1MODE (1u << 8)
#define FLASH_ACR_LATENCY_Msk 0xFu

/* ehd_board.h over stm32/nucleo_board.c */
#define NUCLEO_BOARD_NAME "nucleo-l4r5zi"
#define NUCLEO_CORE_HZ 120000000u
#define NUCLEO_VCP LPUART1

#endif /* STM32L4R5_H */
