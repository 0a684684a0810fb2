/*
 * Nucleo-F746ZG: the core at 216 MHz (HSI 16 MHz through the PLL, over-drive,
 * 7 flash wait states, L1 caches on), APB1 54 MHz, USART3 on PD8 (TX) / PD9
 * (RX), AF7, wired to the ST-LINK virtual COM port, 115200 8N1.
 */
#include "ehd/ehd_board.h"

#include CMSIS_device_header

#include "nucleo_board.h"

#define VCP_BAUD 115200u
#define APB1_HZ (NUCLEO_CORE_HZ / 4u)

/* RM0385 4.1.4: over-drive (needed above 180 MHz) is switched on while the PLL locks. */
static void clock_init(void)
{
    RCC->APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC->APB1ENR;
    PWR->CR1 = (PWR->CR1 & ~PWR_CR1_VOS_Msk) | PWR_CR1_VOS_SCALE1; /* only while the PLL is off */
    /* HSI 16 MHz / M 8 x N 216 = 432 MHz VCO, / P 2 = 216 MHz (/ Q 9 = 48 MHz). */
    RCC->PLLCFGR = (RCC->PLLCFGR & ~RCC_PLLCFGR_FIELDS) | 8u | (216u << RCC_PLLCFGR_PLLN_Pos) |
                   (0u << RCC_PLLCFGR_PLLP_Pos) | (9u << RCC_PLLCFGR_PLLQ_Pos);
    RCC->CR |= RCC_CR_PLLON;
    PWR->CR1 |= PWR_CR1_ODEN;
    while ((PWR->CSR1 & PWR_CSR1_ODRDY) == 0u) {
    }
    PWR->CR1 |= PWR_CR1_ODSWEN;
    while ((PWR->CSR1 & PWR_CSR1_ODSWRDY) == 0u) {
    }
    FLASH->ACR = (FLASH->ACR & ~FLASH_ACR_LATENCY_Msk) | 7u;
    while ((FLASH->ACR & FLASH_ACR_LATENCY_Msk) != 7u) {
    }
    RCC->CFGR = (RCC->CFGR & ~RCC_CFGR_PRE_Msk) | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
    while ((RCC->CR & RCC_CR_PLLRDY) == 0u) {
    }
    RCC->CFGR = (RCC->CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL;
    while ((RCC->CFGR & RCC_CFGR_SWS_Msk) != RCC_CFGR_SWS_PLL) {
    }
}

void ehd_board_init(void)
{
    clock_init();
    SCB_EnableICache();
    SCB_EnableDCache(); /* no DMA anywhere, so nothing to keep coherent */
    RCC->AHB1ENR |= RCC_AHB1ENR_GPIODEN;
    RCC->APB1ENR |= RCC_APB1ENR_USART3EN; /* kernel clock: APB1 (RCC_DCKCFGR2 reset value) */
    (void)RCC->APB1ENR;
    nucleo_vcp_start(GPIOD, 8u, 9u, 7u, STM32_USART_BRR(APB1_HZ, VCP_BAUD));
    nucleo_cycle_counter_start();
}
