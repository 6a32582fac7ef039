/*
 * What tests/guest/windows_x86.c and windows_x64.c share: the serial
 * console, the "kernel" that answers the calls and prints them (`kcall`),
 * and the ring-3 program. Each includes it after defining NTAPI (the stubs'
 * calling convention) and the build's NR_/NARGS_ macros.
 *
 * Each call is printed as the kernel answered it:
 *
 *   WIN <insn> <no> <status> <return address> <handle argument>:<its object> <handle written>:<its object>
 *
 * ("-" where there is none): the guest's own truth, which
 * `cargo xtask windows-guest` holds the plugin's trace against.
 */

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;
typedef unsigned long uptr; /* pointer-sized, as HANDLE and ULONG_PTR */

#define STR(x) #x
#define XSTR(x) STR(x)

/* The compiler may call these for array initialisers. */
void *memset(void *d, int c, unsigned long n) {
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

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

static void puthex(u64 v) {
    static const char digits[] = "0123456789abcdef";
    char buf[19];
    int i = 18;
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
    u32 length;
    uptr root_directory;
    struct unicode_string *object_name;
    u32 attributes;
    void *security_descriptor, *security_qos;
};
struct io_status_block {
    uptr status, information; /* the status in a pointer-sized union */
};
struct client_id {
    uptr unique_process, unique_thread;
};

/* The kernel's handle table: the object each handle is, by name. */
#define HANDLES 16
static struct {
    uptr handle;
    char name[96];
} handles[HANDLES];
static uptr next_handle = 0x24;

static void copy(char *dst, const char *src, int n) {
    int i = 0;
    for (; src[i] && i < n - 1; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

static const char *object_of(uptr h) {
    for (int i = 0; i < HANDLES; i++)
        if (handles[i].handle == h && h)
            return handles[i].name;
    return 0;
}

static uptr open_handle(const char *name) {
    for (int i = 0; i < HANDLES; i++)
        if (!handles[i].handle) {
            handles[i].handle = next_handle;
            copy(handles[i].name, name, sizeof handles[i].name);
            next_handle += 4;
            return handles[i].handle;
        }
    return 0;
}

static int close_handle(uptr h) {
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
static u32 syscall_body(u32 no, uptr *a, uptr *out) {
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
        *(uptr *)a[0] = *out;
        iosb->status = STATUS_SUCCESS;
        iosb->information = 1; /* FILE_OPENED */
        return STATUS_SUCCESS;
    }
    case NR_NtOpenKey: {
        name_of((void *)a[2], name, sizeof name);
        *out = open_handle(name);
        *(uptr *)a[0] = *out;
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
        *(uptr *)a[0] = *out;
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

static void put_handle(uptr h, const char *object) {
    if (!h) {
        puts("-:-");
        return;
    }
    puthex(h);
    putc(':');
    puts(object ? object : "-");
}

/* One call, as an entry found it: the instruction's name, the number, the
 * arguments in order, where the call returns. Answers, prints, returns the
 * NTSTATUS. */
static u32 kcall(const char *insn, u32 no, uptr *args, uptr ret) {
    uptr out = 0, given = 0;
    u32 status;
    /* The handle's object as the call finds it (NtClose forgets it). */
    char before[96] = "-";
    if ((no & 0x1fff) == NR_NtClose && args[0] == 0) {
        /* The program's last call: the kernel stops the machine in it. */
        puts("WIN-END\n");
        qemu_exit(0);
    }
    if (no == NR_NtClose || no == NR_NtReadFile || no == NR_NtQueryInformationFile) {
        const char *in_object = object_of(args[0]);
        given = args[0];
        if (in_object)
            copy(before, in_object, sizeof before);
    }
    status = syscall_body(no & 0x1fff, args, &out);
    puts("WIN ");
    puts(insn);
    putc(' ');
    puthex(no);
    putc(' ');
    puthex(status);
    putc(' ');
    puthex(ret);
    putc(' ');
    put_handle(given, before[0] == '-' ? 0 : before);
    putc(' ');
    put_handle(out, out ? object_of(out) : 0);
    putc('\n');
    return status;
}

/* ---- the user side: the program, through its arch's stubs ------------- */

u32 NTAPI NtCreateFile(uptr *, u32, struct object_attributes *, struct io_status_block *, void *,
                       u32, u32, u32, u32, void *, u32);
u32 NTAPI NtReadFile(uptr, uptr, void *, void *, struct io_status_block *, void *, u32, void *,
                     void *);
u32 NTAPI NtQueryInformationFile(uptr, struct io_status_block *, void *, u32, u32);
u32 NTAPI NtOpenKey(uptr *, u32, struct object_attributes *);
u32 NTAPI NtOpenProcess(uptr *, u32, struct object_attributes *, struct client_id *);
u32 NTAPI NtClose(uptr);
u32 NTAPI OldNtOpenFile(uptr *, u32, struct object_attributes *, struct io_status_block *, u32,
                        u32);
u32 NTAPI OldNtReadFile(uptr, uptr, void *, void *, struct io_status_block *, void *, u32, void *,
                        void *);
u32 NTAPI OldNtClose(uptr);

static u16 path[] = {'\\', '?', '?', '\\', 'C', ':', '\\', 'x', '.', 't', 'x', 't'};
static u16 missing[] = {'\\', '?', '?', '\\', 'C', ':', '\\', 'n', 'o', '.', 't', 'x', 't'};
static u16 machine[] = {'\\', 'R', 'e', 'g', 'i', 's', 't', 'r', 'y', '\\',
                        'M', 'a', 'c', 'h', 'i', 'n', 'e'};
static u16 software[] = {'S', 'O', 'F', 'T', 'W', 'A', 'R', 'E'};

static void init_string(struct unicode_string *s, u16 *text, u32 chars) {
    s->length = s->maximum_length = (u16)(2 * chars);
    s->buffer = text;
}

static void init_attributes(struct object_attributes *oa, uptr root, struct unicode_string *name) {
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
    uptr file = 0, key = 0, sub = 0, process = 0, other = 0;
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
    /* The other stubs (x86: Windows 2000's int 0x2e): a file that is not
     * there, a bad handle, a close. */
    init_attributes(&oa, 0, &s_missing);
    OldNtOpenFile(&other, 0x100001, &oa, &iosb, 1, 0x20);
    OldNtReadFile(0x99, 0, 0, 0, &iosb, buf, sizeof buf, 0, 0);
    OldNtClose(file);
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

