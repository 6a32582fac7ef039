/*
 * A freestanding i386 guest that makes Windows-convention system calls, for
 * `cargo xtask windows-guest`: the QEMU plugin's Windows x86 paths under
 * real QEMU translation, with profile=windows7_x86. Not Windows: a
 * multiboot kernel (qemu-system-i386 -kernel) that sets up a GDT, a TSS,
 * an IDT, 4 MiB identity paging and the SYSENTER MSRs, drops to ring 3 and
 * runs "ntdll" stubs exactly as Windows 7's are written:
 *
 *   NtXxx:              mov eax, N; mov edx, 0x7ffe0300; call [edx]; ret 4*argc
 *   KiFastSystemCall:   mov edx, esp; sysenter
 *   KiFastSystemCallRet: ret
 *
 * (0x7ffe0300 is KUSER_SHARED_DATA's SystemCall pointer, mapped here too),
 * and, as Windows 2000's, `mov eax, N; lea edx, [esp+4]; int 0x2e; ret
 * 4*argc`. Its "kernel" reads the arguments where NT does ([EDX+8] after
 * sysenter, [EDX] after int 0x2e), answers with chosen NTSTATUS values and
 * handles, writes the out-parameters (handles, IO_STATUS_BLOCK, buffers),
 * returns with sysexit to KiFastSystemCallRet (hence to [EDX]) or iret,
 * and prints each call as it answered it on the serial port
 * (windows_common.h, shared with windows_x64.c). The call numbers are Windows 7 SP1 x86's,
 * given by the build (-DNR_NtCreateFile=... from the bundled table), as the
 * argument counts (-DNARGS_...).
 */

#define NTAPI __attribute__((stdcall))
#include "windows_common.h"

/* ---- multiboot and entry ---------------------------------------------- */

__attribute__((section(".multiboot"), used, aligned(4)))
static const u32 multiboot_header[3] = {0x1BADB002u, 0, (u32)-(0x1BADB002u)};

static u8 kernel_stack[16384] __attribute__((aligned(16)));
static u8 user_stack[16384] __attribute__((aligned(16)));

__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov $kernel_stack+16384, %esp\n"
        "  call kmain\n"
        "1: hlt\n"
        "  jmp 1b\n");

/* ---- descriptors, paging, MSRs ---------------------------------------- */

struct tss {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u32 es, cs, ss, ds, fs, gs, ldt;
    u16 trap, iomap;
} __attribute__((packed));

static struct tss tss;
static u64 gdt[6];
static u64 idt[256];
static u32 page_directory[1024] __attribute__((aligned(4096)));

/* Selectors: SYSENTER_CS is 0x08, so SS is 0x10, and sysexit's CS and SS
 * are 0x18|3 and 0x20|3, as the instruction requires. */
enum { KCODE = 0x08, KDATA = 0x10, UCODE = 0x1b, UDATA = 0x23, TSS_SEL = 0x28 };

static u64 segment(u32 base, u32 limit, u32 access, u32 flags) {
    return (u64)(limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40) |
           ((u64)((limit >> 16) & 0xf) << 48) | ((u64)flags << 52) | ((u64)(base >> 24) << 56);
}

static u64 gate(void (*handler)(void), u32 dpl) {
    u32 h = (u32)handler;
    return (u64)(h & 0xffff) | ((u64)KCODE << 16) | ((u64)(0x8e | (dpl << 5)) << 40) |
           ((u64)(h >> 16) << 48);
}

static void wrmsr(u32 msr, u32 lo) { __asm__ volatile("wrmsr" ::"c"(msr), "a"(lo), "d"(0)); }

extern void sysenter_entry(void);
extern void int2e_entry(void);
extern void fault_entry(void);
extern void KiFastSystemCall(void);
extern void KiFastSystemCallRet(void);

/* Called from both entries: via 1 is sysenter, 2 int 0x2e (`ret` is where
 * its iret returns; sysenter's return is [EDX], through KiFastSystemCallRet). */
__attribute__((used)) u32 kdispatch(u32 via, u32 no, u32 edx, u32 ret) {
    uptr *args = (uptr *)(via == 1 ? edx + 8 : edx);
    return kcall(via == 1 ? "sysenter" : "int2e", no, args, via == 1 ? *(u32 *)edx : ret);
}

__attribute__((used)) void kfault(u32 vector, u32 error, u32 eip) {
    puts("WIN-FAULT ");
    puthex(vector);
    putc(' ');
    puthex(error);
    putc(' ');
    puthex(eip);
    putc('\n');
    qemu_exit(3);
}

/* sysenter: ESP is SYSENTER_ESP, EDX the user stack, EAX the number. The
 * return is Windows': sysexit to KiFastSystemCallRet (EDX) with the user
 * stack (ECX), whose `ret` goes back to [EDX]. */
__asm__(".text\n"
        "sysenter_entry:\n"
        "  push %edx\n"
        "  push $0\n"
        "  push %edx\n"
        "  push %eax\n"
        "  push $1\n"
        "  call kdispatch\n"
        "  add $16, %esp\n"
        "  pop %ecx\n"
        "  mov $KiFastSystemCallRet, %edx\n"
        "  sysexit\n"
        "int2e_entry:\n"
        "  pushl (%esp)\n" /* where iret returns */
        "  push %edx\n"
        "  push %eax\n"
        "  push $2\n"
        "  call kdispatch\n"
        "  add $16, %esp\n"
        "  iret\n"
        /* #GP, #PF (with an error code): report and stop. */
        "fault_entry:\n"
        "  push $0\n"
        "  call kfault\n"
        "1: hlt\n"
        "  jmp 1b\n");

/* ---- ntdll's stubs ----------------------------------------------------- */

#define SYSENTER_STUB(name)                                                                        \
    ".globl " #name "\n" #name ":\n"                                                               \
    "  mov $" XSTR(NR_##name) ", %eax\n"                                                           \
    "  mov $0x7ffe0300, %edx\n"                                                                    \
    "  call *(%edx)\n"                                                                             \
    "  ret $(4*" XSTR(NARGS_##name) ")\n"
#define INT2E_STUB(name, real)                                                                     \
    ".globl " #name "\n" #name ":\n"                                                               \
    "  mov $" XSTR(NR_##real) ", %eax\n"                                                           \
    "  lea 4(%esp), %edx\n"                                                                        \
    "  int $0x2e\n"                                                                                \
    "  ret $(4*" XSTR(NARGS_##real) ")\n"

__asm__(".text\n"
        ".globl KiFastSystemCall\n"
        "KiFastSystemCall:\n"
        "  mov %esp, %edx\n"
        "  sysenter\n"
        ".globl KiFastSystemCallRet\n"
        "KiFastSystemCallRet:\n"
        "  ret\n" SYSENTER_STUB(NtCreateFile) SYSENTER_STUB(NtReadFile)
            SYSENTER_STUB(NtQueryInformationFile) SYSENTER_STUB(NtOpenKey)
                SYSENTER_STUB(NtOpenProcess) SYSENTER_STUB(NtClose)
                    INT2E_STUB(OldNtOpenFile, NtOpenFile) INT2E_STUB(OldNtReadFile, NtReadFile)
                        INT2E_STUB(OldNtClose, NtClose));

/* ---- boot ---------------------------------------------------------------- */

void kmain(void) {
    puts("WIN-BOOT\n");
    gdt[1] = segment(0, 0xfffff, 0x9a, 0xc);
    gdt[2] = segment(0, 0xfffff, 0x92, 0xc);
    gdt[3] = segment(0, 0xfffff, 0xfa, 0xc);
    gdt[4] = segment(0, 0xfffff, 0xf2, 0xc);
    gdt[5] = segment((u32)&tss, sizeof tss - 1, 0x89, 0);
    struct {
        u16 limit;
        u32 base;
    } __attribute__((packed)) gdtr = {sizeof gdt - 1, (u32)gdt}, idtr = {sizeof idt - 1, (u32)idt};
    __asm__ volatile("lgdt %0\n"
                     "ljmp $0x08, $1f\n"
                     "1: mov $0x10, %%ax\n"
                     "mov %%ax, %%ds\n"
                     "mov %%ax, %%es\n"
                     "mov %%ax, %%ss\n" ::"m"(gdtr)
                     : "eax");
    tss.ss0 = KDATA;
    tss.esp0 = (u32)kernel_stack + sizeof kernel_stack;
    tss.iomap = sizeof tss;
    __asm__ volatile("ltr %w0" ::"r"(TSS_SEL));
    idt[0x2e] = gate(int2e_entry, 3);
    idt[13] = gate(fault_entry, 0);
    idt[14] = gate(fault_entry, 0);
    __asm__ volatile("lidt %0" ::"m"(idtr));
    /* 4 MiB pages: the first 4 MiB identity mapped, user-accessible, and
     * KUSER_SHARED_DATA's page (0x7ffe0000) backed by the next 4 MiB. */
    page_directory[0] = 0x00000087;
    page_directory[0x7ffe0000u >> 22] = 0x00400087;
    __asm__ volatile("mov %%cr4, %%eax\n"
                     "or $0x10, %%eax\n"
                     "mov %%eax, %%cr4\n"
                     "mov %0, %%cr3\n"
                     "mov %%cr0, %%eax\n"
                     "or $0x80000000, %%eax\n"
                     "mov %%eax, %%cr0\n" ::"r"(page_directory)
                     : "eax");
    *(u32 *)0x7ffe0300u = (u32)KiFastSystemCall;
    wrmsr(0x174, KCODE);
    wrmsr(0x175, (u32)kernel_stack + sizeof kernel_stack);
    wrmsr(0x176, (u32)sysenter_entry);
    puts("WIN-USER\n");
    __asm__ volatile("mov $0x23, %%ax\n"
                     "mov %%ax, %%ds\n"
                     "mov %%ax, %%es\n"
                     "mov %%ax, %%fs\n"
                     "mov %%ax, %%gs\n"
                     "push $0x23\n"
                     "push %0\n"
                     "push $0x2\n" /* EFLAGS: interrupts off */
                     "push $0x1b\n"
                     "push %1\n"
                     "iret\n" ::"r"((u32)user_stack + sizeof user_stack),
                     "r"(user_main)
                     : "eax");
}
