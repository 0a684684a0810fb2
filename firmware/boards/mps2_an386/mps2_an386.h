/*
 * Device header for the Arm MPS2 AN386 (Cortex-M4F) as QEMU emulates it: the
 * configuration CMSIS-Core's core_cm4.h expects, plus the two peripherals the
 * board support uses (CMSDK UART0 and the FPGAIO counter).
 */
#ifndef MPS2_AN386_H
#define MPS2_AN386_H

typedef enum {
    NonMaskableInt_IRQn = -14,
    HardFault_IRQn = -13,
    MemoryManagement_IRQn = -12,
    BusFault_IRQn = -11,
    UsageFault_IRQn = -10,
    SVCall_IRQn = -5,
    DebugMonitor_IRQn = -4,
    PendSV_IRQn = -2,
    SysTick_IRQn = -1,
    UART0RX_IRQn = 0,
    UART0TX_IRQn = 1,
} IRQn_Type;

#define __CM4_REV 0x0001U
#define __FPU_PRESENT 1U
#define __MPU_PRESENT 1U
#define __VTOR_PRESENT 1U
#define __NVIC_PRIO_BITS 3U
#define __Vendor_SysTickConfig 0U

#include "core_cm4.h"

#define MPS2_SYSTEM_CLOCK_HZ 25000000u

/* CMSDK APB UART. */
typedef struct {
    __IOM uint32_t DATA;
    __IOM uint32_t STATE; /* bit 0: TX full, bit 1: RX full */
    __IOM uint32_t CTRL;  /* bit 0: TX enable, bit 1: RX enable */
    __IOM uint32_t INTSTATUS;
    __IOM uint32_t BAUDDIV; /* >= 16 */
} CMSDK_UART_TypeDef;

#define CMSDK_UART_STATE_TXFULL (1u << 0)
#define CMSDK_UART_STATE_RXFULL (1u << 1)
#define CMSDK_UART_CTRL_TXRX_EN 3u

/* MPS2 FPGA system control: COUNTER counts at the 25 MHz system clock. */
typedef struct {
    __IOM uint32_t LED;
    uint32_t reserved0;
    __IM uint32_t BUTTON;
    uint32_t reserved1;
    __IM uint32_t CLK1HZ;
    __IM uint32_t CLK100HZ;
    __IOM uint32_t COUNTER;
} MPS2_FPGAIO_TypeDef;

#define CMSDK_UART0 ((CMSDK_UART_TypeDef *)0x40004000UL)
#define MPS2_FPGAIO ((MPS2_FPGAIO_TypeDef *)0x40028000UL)

#endif /* MPS2_AN386_H */
