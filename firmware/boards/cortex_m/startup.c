/*
 * Vector table and reset handler for every board (Armv7-M and Armv8.1-M).
 * The device header comes from the build (-DCMSIS_device_header="...").
 *
 * The FPU is enabled before anything else: GCC may turn the .data/.bss loops
 * below into memcpy/memset, which may use floating-point registers (and MVE
 * registers on the Cortex-M55, enabled by the same CP10/CP11 bits).
 */
#include <stdint.h>

#include CMSIS_device_header

extern uint32_t __data_load__, __data_start__, __data_end__;
extern uint32_t __bss_start__, __bss_end__;
extern uint32_t __stack_top__;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);

void Reset_Handler(void)
{
    SCB->CPACR |= (0xFu << 20); /* CP10 and CP11: full access */
    __DSB();
    __ISB();
    const uint32_t *src = &__data_load__;
    for (uint32_t *dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0u;
    }
    (void)main();
    for (;;) {
    }
}

/* Any fault or unexpected interrupt parks here; the host's timeout reports it. */
void Default_Handler(void)
{
    for (;;) {
    }
}

typedef void (*vector_fn)(void);

/* The 16 system exceptions and 32 device interrupts; the firmware enables no
   interrupt, so the rest of a device's table is never read. */
__attribute__((section(".vectors"), used)) static const vector_fn vectors[16 + 32] = {
    (vector_fn)(uintptr_t)&__stack_top__,
    Reset_Handler,
    [2 ... 16 + 31] = Default_Handler,
};
