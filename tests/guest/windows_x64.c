/*
 * The x64 variant of tests/guest/windows_x86.c, for `cargo xtask
 * windows-guest`: the plugin's Windows x64 path (`syscall`) under real
 * QEMU translation, with profile=windows7_x64. Not Windows: a multiboot
 * kernel (qemu-system-x86_64 -kernel; built as x86-64 and given to QEMU as
 * a 32-bit ELF) whose 32-bit entry builds 2 MiB identity page tables,
 * enters long mode, sets the SYSCALL MSRs (STAR, LSTAR, SFMASK), drops to
 * ring 3 and runs stubs exactly as Windows 7's x64 ntdll's are written:
 *
 *   NtXxx: mov r10, rcx; mov eax, N; syscall; ret
 *
 * called with the Microsoft x64 convention (the compiler's ms_abi: four
 * arguments in RCX, RDX, R8, R9, the rest on the stack past the 32-byte
 * home area). Its "kernel" reads them where NT does (R10, RDX, R8, R9, then
 * [RSP+0x28]...), answers, writes the out-parameters and returns with
 * sysretq to the instruction after the `syscall`, printing each call
 * (windows_common.h). The numbers are Windows 7 SP1 x64's, from the build.
 */

#define NTAPI __attribute__((ms_abi))
#include "windows_common.h"

/* ---- multiboot, long mode ---------------------------------------------- */

__attribute__((section(".multiboot"), used, aligned(4)))
static const u32 multiboot_header[3] = {0x1BADB002u, 0, (u32)-(0x1BADB002u)};

__attribute__((used)) static u8 kernel_stack[16384] __attribute__((aligned(16)));
static u8 user_stack[16384] __attribute__((aligned(16)));
__attribute__((used, aligned(4096))) static u64 pml4[512];
__attribute__((used, aligned(4096))) static u64 pdpt[512];
__attribute__((used, aligned(4096))) static u64 pd[512];
/* Selectors: SYSCALL's CS 0x08 (SS 0x10); SYSRET's base 0x10, so its SS
 * is 0x18|3 and its 64-bit CS 0x20|3, as the instructions require. */
__attribute__((used, aligned(16))) static u64 gdt[5] = {
    0,
    0x00209a0000000000ull, /* kernel code, 64-bit */
    0x0000920000000000ull, /* kernel data */
    0x0000f20000000000ull, /* user data */
    0x0020fa0000000000ull, /* user code, 64-bit */
};
__attribute__((used)) static struct {
    u16 limit;
    u64 base;
} __attribute__((packed)) gdtr = {sizeof gdt - 1, 0};
__attribute__((used)) static u64 user_rsp;

void kmain(void);

/* 32-bit entry: the first 8 MiB identity mapped with 2 MiB user pages,
 * PAE, EFER.LME and SCE, paging, the 64-bit GDT, then 64-bit code. */
__asm__(".text\n"
        ".code32\n"
        ".globl _start\n"
        "_start:\n"
        "  mov $kernel_stack+16384, %esp\n"
        "  mov $pdpt, %eax\n"
        "  or $7, %eax\n"
        "  mov %eax, pml4\n"
        "  mov $pd, %eax\n"
        "  or $7, %eax\n"
        "  mov %eax, pdpt\n"
        "  mov $0x87, %eax\n" /* P, RW, US, PS */
        "  mov $pd, %edi\n"
        "  mov $4, %ecx\n"
        "1: mov %eax, (%edi)\n"
        "  add $0x200000, %eax\n"
        "  add $8, %edi\n"
        "  loop 1b\n"
        "  mov $pml4, %eax\n"
        "  mov %eax, %cr3\n"
        "  mov %cr4, %eax\n"
        "  or $0x20, %eax\n"
        "  mov %eax, %cr4\n"
        "  mov $0xc0000080, %ecx\n"
        "  rdmsr\n"
        "  or $0x101, %eax\n"
        "  wrmsr\n"
        "  mov %cr0, %eax\n"
        "  or $0x80000001, %eax\n"
        "  mov %eax, %cr0\n"
        "  movl $gdt, gdtr+2\n"
        "  lgdt gdtr\n"
        "  ljmp $0x08, $2f\n"
        ".code64\n"
        "2: mov $0x10, %ax\n"
        "  mov %ax, %ds\n"
        "  mov %ax, %es\n"
        "  mov %ax, %ss\n"
        "  mov $kernel_stack+16384, %rsp\n"
        "  call kmain\n"
        "3: hlt\n"
        "  jmp 3b\n");

static void wrmsr(u32 msr, u64 v) {
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

/* ---- the kernel's entry -------------------------------------------------- */

/* From syscall_entry, on the kernel stack: the number, the four register
 * arguments, the user stack (the rest), where sysretq returns. */
__attribute__((used)) u32 kdispatch(u64 no, u64 a0, u64 a1, u64 a2, u64 a3, u64 rsp, u64 rip) {
    uptr args[12] = {a0, a1, a2, a3};
    for (int i = 4; i < 12; i++)
        args[i] = *(u64 *)(rsp + 0x28 + 8 * (i - 4));
    return kcall("syscall", (u32)no, args, rip);
}

/* syscall: RCX is the user RIP, R11 its RFLAGS, RSP still the user's. */
__asm__(".text\n"
        "syscall_entry:\n"
        "  mov %rsp, user_rsp\n"
        "  mov $kernel_stack+16384, %rsp\n"
        "  push %rcx\n"
        "  push %r11\n"
        "  sub $8, %rsp\n"
        "  push %rcx\n" /* kdispatch's 7th argument */
        "  mov %rax, %rdi\n"
        "  mov %r10, %rsi\n"
        "  mov %r8, %rcx\n"
        "  mov %r9, %r8\n"
        "  mov user_rsp, %r9\n"
        "  call kdispatch\n"
        "  add $16, %rsp\n"
        "  pop %r11\n"
        "  pop %rcx\n"
        "  mov user_rsp, %rsp\n"
        "  sysretq\n");
extern void syscall_entry(void);

/* ---- ntdll's stubs ------------------------------------------------------- */

#define SYSCALL_STUB(name, real)                                                                   \
    ".globl " #name "\n" #name ":\n"                                                               \
    "  mov %rcx, %r10\n"                                                                           \
    "  mov $" XSTR(NR_##real) ", %eax\n"                                                           \
    "  syscall\n"                                                                                  \
    "  ret\n"

__asm__(".text\n" SYSCALL_STUB(NtCreateFile, NtCreateFile) SYSCALL_STUB(NtReadFile, NtReadFile)
            SYSCALL_STUB(NtQueryInformationFile, NtQueryInformationFile)
                SYSCALL_STUB(NtOpenKey, NtOpenKey) SYSCALL_STUB(NtOpenProcess, NtOpenProcess)
                    SYSCALL_STUB(NtClose, NtClose) SYSCALL_STUB(OldNtOpenFile, NtOpenFile)
                        SYSCALL_STUB(OldNtReadFile, NtReadFile) SYSCALL_STUB(OldNtClose, NtClose));

/* ---- boot ---------------------------------------------------------------- */

void kmain(void) {
    puts("WIN-BOOT\n");
    wrmsr(0xc0000081, ((u64)0x10 << 48) | ((u64)0x08 << 32)); /* STAR */
    wrmsr(0xc0000082, (u64)syscall_entry);                    /* LSTAR */
    wrmsr(0xc0000084, 0x200);                                 /* SFMASK: IF */
    puts("WIN-USER\n");
    __asm__ volatile("push $0x1b\n"
                     "push %0\n"
                     "push $0x2\n"
                     "push $0x23\n"
                     "push %1\n"
                     "iretq\n" ::"r"((u64)user_stack + sizeof user_stack - 8),
                     "r"((u64)user_main));
}
