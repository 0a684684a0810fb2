/*
 * The system exceptions every device header's IRQn_Type starts with. The
 * firmware enables no device interrupt, so the device headers list none.
 */
#ifndef CORE_IRQN_H
#define CORE_IRQN_H

typedef enum {
    NonMaskableInt_IRQn = -14,
    HardFault_IRQn = -13,
    MemoryManagement_IRQn = -12,
    BusFault_IRQn = -11,
    UsageFault_IRQn = -10,
    SecureFault_IRQn = -9, /* Armv8-M only */
    SVCall_IRQn = -5,
    DebugMonitor_IRQn = -4,
    PendSV_IRQn = -2,
    SysTick_IRQn = -1,
} IRQn_Type;

#endif /* CORE_IRQN_H */
