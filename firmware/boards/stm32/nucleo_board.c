/*
 * The part of ehd_board.h every Nucleo board shares: the ST-LINK virtual COM
 * port (NUCLEO_VCP, a USART or LPUART the board's ehd_board_init set up), the
 * DWT cycle counter at the core clock (NUCLEO_CORE_HZ), the board name
 * (NUCLEO_BOARD_NAME), all from the device header. Each board's board.c
 * implements ehd_board_init: clocks, then nucleo_vcp_start and
 * nucleo_cycle_counter_start.
 */
#include "ehd/ehd_board.h"

#include CMSIS_device_header

#include "nucleo_board.h"

void nucleo_vcp_start(STM32_GPIO_TypeDef *port, uint32_t tx_pin, uint32_t rx_pin, uint32_t af, uint32_t brr)
{
    stm32_gpio_set_af(port, tx_pin, af);
    stm32_gpio_set_af(port, rx_pin, af);
    stm32_usart_init(NUCLEO_VCP, brr);
}

void nucleo_cycle_counter_start(void)
{
    DCB->DEMCR |= DCB_DEMCR_TRCENA_Msk; /* trace and debug blocks on, DWT included */
#if defined(__CM7_REV)
    DWT->LAR = 0xC5ACCE55u; /* the Cortex-M7's DWT ignores writes until unlocked */
#endif
    DWT->CYCCNT = 0u;
    DWT->CTRL |= DWT_CTRL_CYCCNTENA_Msk;
}

uint8_t ehd_board_getc(void)
{
    return stm32_usart_getc(NUCLEO_VCP);
}

void ehd_board_write(const uint8_t *data, size_t len)
{
    stm32_usart_write(NUCLEO_VCP, data, len);
}

uint32_t ehd_board_ticks(void)
{
    return DWT->CYCCNT;
}

uint32_t ehd_board_ticks_hz(void)
{
    return NUCLEO_CORE_HZ;
}

const char *ehd_board_name(void)
{
    return NUCLEO_BOARD_NAME;
}

/* No host to return to: stop here with interrupts off until the next reset. */
void ehd_board_exit(int code)
{
    (void)code;
    __disable_irq();
    for (;;) {
        __WFI();
    }
}
