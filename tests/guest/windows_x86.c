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
 * and prints each call as it answered it on the serial port:
 *
 *   WIN <insn> <no> <status> <return address> <handle argument>:<its object> <handle written>:<its object>
 *
 * ("-" where there is none): the guest's own truth, which the test holds
 * the plugin's trace against. The call numbers are Windows 7 SP1 x86's,
 * given by the build (-DNR_NtCreateFile=... from the bundled table), as the
 * argument counts (-DNARGS_...).
 */

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#define STR(x) #x
#define XSTR(x) STR(x)

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

/* ---- serial console and exit ------------------------------------------ */

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) {
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc(char c) {
    while (!(inb(0x3fd) & 0x20)) {
    }
    outb(0x3f8, (u8)c);
}

static void puts(const char *s) {
    while (*s)
        putc(*s++);
}

static void puthex(u32 v) {
    static const char digits[] = "0123456789abcdef";
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = digits[v & 0xf];
        v >>= 4;
    } while (v);
    buf[--i] = 'x';
    buf[--i] = '0';
    puts(buf + i);
}

/* QEMU's isa-debug-exit device: QEMU exits with (v << 1) | 1. */
static void qemu_exit(u8 v) {
    outb(0xf4, v);
    for (;;)
        __asm__ volatile("hlt");
}

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
static void user_main(void);

/* ---- the "kernel": what each call does --------------------------------- */

#define STATUS_SUCCESS 0x00000000u
#define STATUS_INVALID_HANDLE 0xC0000008u
#define STATUS_OBJECT_NAME_NOT_FOUND 0xC0000034u
#define STATUS_NOT_IMPLEMENTED 0xC0000002u

struct unicode_string {
    u16 length, maximum_length;
    u16 *buffer;
};
struct object_attributes {
    u32 length, root_directory;
    struct unicode_string *object_name;
    u32 attributes;
    void *security_descriptor, *security_qos;
};
struct io_status_block {
    u32 status, information;
};
struct client_id {
    u32 unique_process, unique_thread;
};

/* The kernel's handle table: the object each handle is, by name. */
#define HANDLES 16
static struct {
    u32 handle;
    char name[96];
} handles[HANDLES];
static u32 next_handle = 0x24;

static void copy(char *dst, const char *src, int n) {
    int i = 0;
    for (; src[i] && i < n - 1; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

static const char *object_of(u32 h) {
    for (int i = 0; i < HANDLES; i++)
        if (handles[i].handle == h && h)
            return handles[i].name;
    return 0;
}

static u32 open_handle(const char *name) {
    for (int i = 0; i < HANDLES; i++)
        if (!handles[i].handle) {
            handles[i].handle = next_handle;
            copy(handles[i].name, name, sizeof handles[i].name);
            next_handle += 4;
            return handles[i].handle;
        }
    return 0;
}

static int close_handle(u32 h) {
    for (int i = 0; i < HANDLES; i++)
        if (handles[i].handle == h && h) {
            handles[i].handle = 0;
            return 1;
        }
    return 0;
}

/* The object an OBJECT_ATTRIBUTES names: its RootDirectory's name, `\`,
 * its ObjectName (UTF-16, ASCII here). */
static void name_of(const struct object_attributes *oa, char *out, int n) {
    int k = 0;
    const char *root = oa->root_directory ? object_of(oa->root_directory) : 0;
    if (root) {
        while (*root && k < n - 2)
            out[k++] = *root++;
        out[k++] = '\\';
    }
    if (oa->object_name)
        for (u32 i = 0; i < oa->object_name->length / 2u && k < n - 1; i++)
            out[k++] = (char)oa->object_name->buffer[i];
    out[k] = 0;
}

static int equal(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static const char file_text[] = "hello from the guest\n";

/* One call: its number and arguments as NT finds them; what it answers.
 * `out` is the handle it writes. */
static u32 syscall_body(u32 no, u32 *a, u32 *out) {
    char name[96];
    switch (no) {
    case NR_NtCreateFile:
    case NR_NtOpenFile: {
        struct object_attributes *oa = (void *)a[2];
        struct io_status_block *iosb = (void *)a[3];
        name_of(oa, name, sizeof name);
        if (!equal(name, "\\??\\C:\\x.txt"))
            return STATUS_OBJECT_NAME_NOT_FOUND;
        *out = open_handle(name);
        *(u32 *)a[0] = *out;
        iosb->status = STATUS_SUCCESS;
        iosb->information = 1; /* FILE_OPENED */
        return STATUS_SUCCESS;
    }
    case NR_NtOpenKey: {
        name_of((void *)a[2], name, sizeof name);
        *out = open_handle(name);
        *(u32 *)a[0] = *out;
        return STATUS_SUCCESS;
    }
    case NR_NtOpenProcess: {
        struct client_id *cid = (void *)a[3];
        char pid[16] = "pid:";
        /* The plugin's name for a process opened by id (decimal). */
        u32 v = cid->unique_process, d = 1000000000u;
        int k = 4, started = 0;
        for (; d; d /= 10) {
            u32 digit = (v / d) % 10;
            if (digit || started || d == 1) {
                pid[k++] = (char)('0' + digit);
                started = 1;
            }
        }
        pid[k] = 0;
        *out = open_handle(pid);
        *(u32 *)a[0] = *out;
        return STATUS_SUCCESS;
    }
    case NR_NtReadFile: {
        struct io_status_block *iosb = (void *)a[4];
        char *buf = (void *)a[5];
        u32 len = a[6], n = sizeof file_text - 1;
        if (!object_of(a[0]))
            return STATUS_INVALID_HANDLE;
        if (n > len)
            n = len;
        for (u32 i = 0; i < n; i++)
            buf[i] = file_text[i];
        iosb->status = STATUS_SUCCESS;
        iosb->information = n;
        return STATUS_SUCCESS;
    }
    case NR_NtQueryInformationFile: {
        struct io_status_block *iosb = (void *)a[1];
        u32 *info = (void *)a[2];
        if (!object_of(a[0]))
            return STATUS_INVALID_HANDLE;
        /* FILE_STANDARD_INFORMATION: allocation size, end of file, links,
         * delete pending, directory. */
        info[0] = 4096, info[1] = 0, info[2] = sizeof file_text - 1, info[3] = 0;
        info[4] = 1, info[5] = 0;
        iosb->status = STATUS_SUCCESS;
        iosb->information = 24;
        return STATUS_SUCCESS;
    }
    case NR_NtClose:
        return close_handle(a[0]) ? STATUS_SUCCESS : STATUS_INVALID_HANDLE;
    }
    return STATUS_NOT_IMPLEMENTED;
}

static void put_handle(u32 h, const char *object) {
    if (!h) {
        puts("-:-");
        return;
    }
    puthex(h);
    putc(':');
    puts(object ? object : "-");
}

/* Called from both entries: via 1 is sysenter, 2 int 0x2e (`ret` is where
 * its iret returns; sysenter's return is [EDX], through KiFastSystemCallRet). */
__attribute__((used)) u32 kdispatch(u32 via, u32 no, u32 edx, u32 ret) {
    u32 *args = (u32 *)(via == 1 ? edx + 8 : edx);
    u32 out = 0;
    /* The handle's object as the call finds it (NtClose forgets it). */
    u32 status;
    const char *in_object;
    char before[96] = "-";
    u32 given = 0;
    if (no == NR_NtClose || no == NR_NtReadFile || no == NR_NtQueryInformationFile) {
        given = args[0];
        in_object = object_of(given);
        if (in_object)
            copy(before, in_object, sizeof before);
    }
    if ((no & 0x1fff) == NR_NtClose && args[0] == 0) {
        /* The program's last call: the kernel stops the machine in it. */
        puts("WIN-END\n");
        qemu_exit(0);
    }
    status = syscall_body(no & 0x1fff, args, &out);
    puts("WIN ");
    puts(via == 1 ? "sysenter " : "int2e ");
    puthex(no);
    putc(' ');
    puthex(status);
    putc(' ');
    puthex(via == 1 ? *(u32 *)edx : ret);
    putc(' ');
    put_handle(given, before[0] == '-' ? 0 : before);
    putc(' ');
    put_handle(out, out ? object_of(out) : 0);
    putc('\n');
    return status;
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

/* ---- the user side: ntdll's stubs, then the program -------------------- */

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
                    INT2E_STUB(IntNtOpenFile, NtOpenFile) INT2E_STUB(IntNtReadFile, NtReadFile)
                        INT2E_STUB(IntNtClose, NtClose));

#define NTAPI __attribute__((stdcall))
u32 NTAPI NtCreateFile(u32 *, u32, struct object_attributes *, struct io_status_block *, void *,
                       u32, u32, u32, u32, void *, u32);
u32 NTAPI NtReadFile(u32, u32, void *, void *, struct io_status_block *, void *, u32, void *,
                     void *);
u32 NTAPI NtQueryInformationFile(u32, struct io_status_block *, void *, u32, u32);
u32 NTAPI NtOpenKey(u32 *, u32, struct object_attributes *);
u32 NTAPI NtOpenProcess(u32 *, u32, struct object_attributes *, struct client_id *);
u32 NTAPI NtClose(u32);
u32 NTAPI IntNtOpenFile(u32 *, u32, struct object_attributes *, struct io_status_block *, u32,
                        u32);
u32 NTAPI IntNtReadFile(u32, u32, void *, void *, struct io_status_block *, void *, u32, void *,
                        void *);
u32 NTAPI IntNtClose(u32);

static u16 path[] = {'\\', '?', '?', '\\', 'C', ':', '\\', 'x', '.', 't', 'x', 't'};
static u16 missing[] = {'\\', '?', '?', '\\', 'C', ':', '\\', 'n', 'o', '.', 't', 'x', 't'};
static u16 machine[] = {'\\', 'R', 'e', 'g', 'i', 's', 't', 'r', 'y', '\\',
                        'M', 'a', 'c', 'h', 'i', 'n', 'e'};
static u16 software[] = {'S', 'O', 'F', 'T', 'W', 'A', 'R', 'E'};

static void init_string(struct unicode_string *s, u16 *text, u32 chars) {
    s->length = s->maximum_length = (u16)(2 * chars);
    s->buffer = text;
}

static void init_attributes(struct object_attributes *oa, u32 root, struct unicode_string *name) {
    oa->length = sizeof *oa;
    oa->root_directory = root;
    oa->object_name = name;
    oa->attributes = 0x40; /* OBJ_CASE_INSENSITIVE */
    oa->security_descriptor = oa->security_qos = 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void user_main(void) {
    struct unicode_string s_path, s_missing, s_machine, s_software;
    struct object_attributes oa;
    struct io_status_block iosb;
    struct client_id cid = {1234, 0};
    u32 file = 0, key = 0, sub = 0, process = 0, other = 0;
    u32 info[6];
    char buf[64];
    init_string(&s_path, path, N(path));
    init_string(&s_missing, missing, N(missing));
    init_string(&s_machine, machine, N(machine));
    init_string(&s_software, software, N(software));

    /* FILE_GENERIC_READ; FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_OPEN,
     * FILE_SYNCHRONOUS_IO_NONALERT|FILE_NON_DIRECTORY_FILE. */
    init_attributes(&oa, 0, &s_path);
    NtCreateFile(&file, 0x120089, &oa, &iosb, 0, 0x80, 1, 1, 0x60, 0, 0);
    NtReadFile(file, 0, 0, 0, &iosb, buf, sizeof buf, 0, 0);
    NtQueryInformationFile(file, &iosb, info, sizeof info, 5 /* FileStandardInformation */);
    /* KEY_READ, then a key relative to it. */
    init_attributes(&oa, 0, &s_machine);
    NtOpenKey(&key, 0x20019, &oa);
    init_attributes(&oa, key, &s_software);
    NtOpenKey(&sub, 0x1 /* KEY_QUERY_VALUE */, &oa);
    /* PROCESS_QUERY_INFORMATION|PROCESS_VM_READ, by its id. */
    init_attributes(&oa, 0, 0);
    NtOpenProcess(&process, 0x410, &oa, &cid);
    /* Windows 2000's path: a file that is not there, a bad handle, a close. */
    init_attributes(&oa, 0, &s_missing);
    IntNtOpenFile(&other, 0x100001, &oa, &iosb, 1, 0x20);
    IntNtReadFile(0x99, 0, 0, 0, &iosb, buf, sizeof buf, 0, 0);
    IntNtClose(file);
    NtClose(sub);
    NtClose(key);
    NtClose(process);
    /* The closed handle, again: the kernel no longer knows it. */
    NtReadFile(file, 0, 0, 0, &iosb, buf, sizeof buf, 0, 0);
    /* Ring 3 cannot reach the exit port: a last call the kernel ends on. */
    NtClose(0);
    for (;;) {
    }
}

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
