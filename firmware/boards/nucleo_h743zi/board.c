/*
 * Nucleo-H743ZI: the core at 400 MHz (HSI 64 MHz through PLL1, LDO supply,
 * voltage scale 1: the top speed of every silicon revision), AXI/AHB 200 MHz,
 * APB 100 MHz, 4 flash wait states, L1 caches on; USART3 on PD8 (TX) / PD9
 * (RX), AF7, wired to the ST-LINK virtual COM port, 115200 8N1.
 */
#include "ehd/ehd_board.h"

#include CMSIS_device_header

#include "nucleo_board.h"

#define VCP_BAUD 115200u
#define APB1_HZ (NUCLEO_CORE_HZ / 4u)

/* RM0433 6.8.4: the supply configuration is written once after reset, which locks it. */
static void power_init(void)
{
    PWR->CR3 = (PWR->CR3 & ~PWR_CR3_SUPPLY_Msk) | PWR_CR3_LDOEN;
    while ((PWR->CSR1 & PWR_CSR1_ACTVOSRDY) == 0u) {
    }
    PWR->D3CR = (PWR->D3CR & ~PWR_D3CR_VOS_Msk) | PWR_D3CR_VOS_SCALE1;
    while ((PWR->D3CR & PWR_D3CR_VOSRDY) == 0u) {
    }
}

static void clock_init(void)
{
    FLASH->ACR = (FLASH->ACR & ~FLASH_ACR_Msk) | 4u | (2u << FLASH_ACR_WRHIGHFREQ_Pos);
    while ((FLASH->ACR & FLASH_ACR_Msk) != (4u | (2u << FLASH_ACR_WRHIGHFREQ_Pos))) {
    }
    /* HSI 64 MHz / M 32 = 2 MHz x N 400 = 800 MHz VCO, / P 2 = 400 MHz (/ Q, R 4 = 200 MHz). */
    RCC->PLLCKSELR = (RCC->PLLCKSELR & ~(RCC_PLLCKSELR_PLLSRC_Msk | RCC_PLLCKSELR_DIVM1_Msk)) |
                     (32u << RCC_PLLCKSELR_DIVM1_Pos);
    RCC->PLLCFGR = (RCC->PLLCFGR & ~RCC_PLLCFGR_PLL1_Msk) | RCC_PLLCFGR_PLL1RGE_2_4MHZ | RCC_PLLCFGR_DIVP1EN;
    RCC->PLL1DIVR = (400u - 1u) | ((2u - 1u) << RCC_PLL1DIVR_DIVP1_Pos) | ((4u - 1u) << RCC_PLL1DIVR_DIVQ1_Pos) |
                    ((4u - 1u) << RCC_PLL1DIVR_DIVR1_Pos);
    RCC->CR |= RCC_CR_PLL1ON;
    while ((RCC->CR & RCC_CR_PLL1RDY) == 0u) {
    }
    RCC->D1CFGR = RCC_D1CFGR_HPRE_DIV2 | RCC_D1CFGR_D1PPRE_DIV2; /* core /1 */
    RCC->D2CFGR = RCC_D2CFGR_D2PPRE1_DIV2 | RCC_D2CFGR_D2PPRE2_DIV2;
    RCC->D3CFGR = RCC_D3CFGR_D3PPRE_DIV2;
    RCC->CFGR = (RCC->CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL1;
    while ((RCC->CFGR & RCC_CFGR_SWS_Msk) != RCC_CFGR_SWS_PLL1) {
    }
}

void ehd_board_init(void)
{
    power_init();
    clock_init();
    SCB_EnableICache();
    SCB_EnableDCache(); /* no DMA anywhere, so nothing to keep coherent */
    RCC->AHB4ENR |= RCC_AHB4ENR_GPIODEN;
    RCC->APB1LENR |= RCC_APB1LENR_USART3EN; /* kernel clock: APB1 (RCC_D2CCIP2R reset value) */
    (void)RCC->APB1LENR;
    nucleo_vcp_start(GPIOD, 8u, 9u, 7u, STM32_USART_BRR(APB1_HZ, VCP_BAUD));
    nucleo_cycle_counter_start();
}
