/*
 * Nucleo-L4R5ZI: the core at 120 MHz (MSI 4 MHz through the PLL, Range 1
 * boost, 5 flash wait states: the MLPerf Tiny reference setting), LPUART1 on
 * PG7 (TX) / PG8 (RX), AF8, wired to the ST-LINK virtual COM port, 115200 8N1.
 */
#include "ehd/ehd_board.h"

#include CMSIS_device_header

#include "nucleo_board.h"

#define VCP_BAUD 115200u

/* RM0432 5.1.8: into Range 1 boost mode with HCLK halved until 1 us after the switch. */
static void clock_init(void)
{
    RCC->APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC->APB1ENR1; /* the clock runs before PWR is written */
    RCC->CFGR = (RCC->CFGR & ~RCC_CFGR_HPRE_Msk) | RCC_CFGR_HPRE_DIV2;
    PWR->CR5 &= ~PWR_CR5_R1MODE;
    FLASH->ACR = (FLASH->ACR & ~FLASH_ACR_LATENCY_Msk) | 5u;
    while ((FLASH->ACR & FLASH_ACR_LATENCY_Msk) != 5u) {
    }
    /* MSI 4 MHz / M 1 x N 60 = 240 MHz VCO, / R 2 = 120 MHz. */
    RCC->PLLCFGR = RCC_PLLCFGR_PLLSRC_MSI | (0u << RCC_PLLCFGR_PLLM_Pos) | (60u << RCC_PLLCFGR_PLLN_Pos) |
                   (0u << RCC_PLLCFGR_PLLR_Pos) | RCC_PLLCFGR_PLLREN;
    RCC->CR |= RCC_CR_PLLON;
    while ((RCC->CR & RCC_CR_PLLRDY) == 0u) {
    }
    RCC->CFGR = (RCC->CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL;
    while ((RCC->CFGR & RCC_CFGR_SWS_Msk) != RCC_CFGR_SWS_PLL) {
    }
    for (volatile uint32_t i = 0; i < 100u; i++) { /* >= 1 us at HCLK 60 MHz */
    }
    RCC->CFGR &= ~RCC_CFGR_HPRE_Msk; /* HCLK = PCLK1 = PCLK2 = 120 MHz */
}

void ehd_board_init(void)
{
    clock_init();
    PWR->CR2 |= PWR_CR2_IOSV; /* PG2-PG15 are powered from VDDIO2, off until declared valid */
    RCC->AHB2ENR |= RCC_AHB2ENR_GPIOGEN;
    RCC->APB1ENR2 |= RCC_APB1ENR2_LPUART1EN; /* kernel clock: PCLK1 (RCC_CCIPR reset value) */
    (void)RCC->APB1ENR2;
    nucleo_vcp_start(GPIOG, 7u, 8u, 8u, STM32_LPUART_BRR(NUCLEO_CORE_HZ, VCP_BAUD));
    nucleo_cycle_counter_start();
}
