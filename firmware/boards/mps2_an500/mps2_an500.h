/*
 * Device header for the Arm MPS2 AN500 (Cortex-M7, double-precision FPU) as
 * QEMU emulates it: the configuration CMSIS-Core's core_cm7.h expects, plus
 * what mps/mps_board.c uses. The peripherals sit where the AN385/AN386 have
 * them. QEMU models no caches or TCMs, so none is declared.
 */
#ifndef MPS2_AN500_H
#define MPS2_AN500_H

#include "core_irqn.h"

#define __CM7_REV 0x0001U
#define __FPU_PRESENT 1U
#define __MPU_PRESENT 1U
#define __ICACHE_PRESENT 0U
#define __DCACHE_PRESENT 0U
#define __DTCM_PRESENT 0U
#define __VTOR_PRESENT 1U
#define __NVIC_PRIO_BITS 3U
#define __Vendor_SysTickConfig 0U

#include "core_cm7.h"

#include "cmsdk_uart.h"
#include "mps_fpgaio.h"

#define MPS_BOARD_NAME "mps2-an500"
#define MPS_COUNTER_HZ 25000000u /* the FPGAIO counter runs at the 25 MHz system clock */
#define MPS_UART0 ((CMSDK_UART_TypeDef *)0x40004000UL)
#define MPS_FPGAIO ((MPS_FPGAIO_TypeDef *)0x40028000UL)

#endif /* MPS2_AN500_H */
