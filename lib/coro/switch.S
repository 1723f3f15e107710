/* goose__coro_switch(void **save_sp, void *load_sp): saves the callee-saved
 * registers on the current stack, stores its pointer in *save_sp, switches to
 * load_sp and restores the registers saved there.  goose__coro_boot is the
 * first "return address" of a new stack: it calls fn(arg), kept in
 * callee-saved registers by coro.c, and never returns. */
#if defined(__x86_64__) && !defined(GOOSE_CORO_UCONTEXT)
    .text
    .globl goose__coro_switch
    .hidden goose__coro_switch
    .type goose__coro_switch, @function
goose__coro_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size goose__coro_switch, .-goose__coro_switch

    .globl goose__coro_boot
    .hidden goose__coro_boot
    .type goose__coro_boot, @function
goose__coro_boot:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size goose__coro_boot, .-goose__coro_boot
#elif defined(__aarch64__) && !defined(GOOSE_CORO_UCONTEXT)
    .text
    .globl goose__coro_switch
    .hidden goose__coro_switch
    .type goose__coro_switch, %function
goose__coro_switch:
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #176
    ret
    .size goose__coro_switch, .-goose__coro_switch

    .globl goose__coro_boot
    .hidden goose__coro_boot
    .type goose__coro_boot, %function
goose__coro_boot:
    mov x0, x19
    blr x20
    brk #0
    .size goose__coro_boot, .-goose__coro_boot
#endif
    .section .note.GNU-stack,"",%progbits
