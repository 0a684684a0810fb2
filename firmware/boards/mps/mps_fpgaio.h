/*
 * FPGA system control block (FPGAIO) of the MPS2/MPS3 images. COUNTER is a
 * free-running 32-bit up-counter at the image's prescale clock (PRESCALE = 0
 * after reset), which QEMU derives from virtual time: under -icount it counts
 * guest instructions. Include after the CMSIS core header (it uses __IOM).
 */
#ifndef MPS_FPGAIO_H
#define MPS_FPGAIO_H

#include <stdint.h>

typedef struct {
    __IOM uint32_t LED;      /* 0x00 */
    uint32_t reserved0;      /* 0x04 */
    __IM uint32_t BUTTON;    /* 0x08 */
    uint32_t reserved1;      /* 0x0C */
    __IM uint32_t CLK1HZ;    /* 0x10 */
    __IM uint32_t CLK100HZ;  /* 0x14 */
    __IOM uint32_t COUNTER;  /* 0x18 */
    __IOM uint32_t PRESCALE; /* 0x1C */
    __IOM uint32_t PSCNTR;   /* 0x20 */
} MPS_FPGAIO_TypeDef;

#endif /* MPS_FPGAIO_H */
