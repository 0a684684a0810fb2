/*
 * Device header for the Arm MPS3 AN547 (Corstone SSE-300: Cortex-M55 with FPU
 * and MVE) as QEMU emulates it: the configuration CMSIS-Core's core_cm55.h
 * expects, plus what mps/mps_board.c uses. The core starts in Secure state
 * with the SAU off, so every address is Secure; the peripherals are used at
 * their Non-secure aliases, which their PPCs let Secure accesses through.
 * QEMU models no caches or PMU, so none is declared.
 */
#ifndef MPS3_AN547_H
#define MPS3_AN547_H

#include "core_irqn.h"

#define __CM55_REV 0x0001U
#define __FPU_PRESENT 1U
#define __FPU_DP 1U
#define __DSP_PRESENT 1U
#define __MPU_PRESENT 1U
#define __SAUREGION_PRESENT 1U
#define __PMU_PRESENT 0U
#define __ICACHE_PRESENT 0U
#define __DCACHE_PRESENT 0U
#define __VTOR_PRESENT 1U
#define __NVIC_PRIO_BITS 3U
#define __Vendor_SysTickConfig 0U

#include "core_cm55.h"

#include "cmsdk_uart.h"
#include "mps_fpgaio.h"

#define MPS_BOARD_NAME "mps3-an547"
/* QEMU clocks the FPGAIO counter at 20 MHz here (its prescale clock), not at
   the 32 MHz core clock that SysTick counts: measured against a busy loop. */
#define MPS_COUNTER_HZ 20000000u
#define MPS_UART0 ((CMSDK_UART_TypeDef *)0x49303000UL)
#define MPS_FPGAIO ((MPS_FPGAIO_TypeDef *)0x49302000UL)

#endif /* MPS3_AN547_H */
