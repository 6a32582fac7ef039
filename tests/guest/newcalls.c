/*
 * newcalls: a guest program that makes the system calls Linux 6.12 has and
 * 6.1 lacks (cachestat, fchmodat2, futex_wake, statmount, listmount,
 * lsm_list_modules, mseal), each through a raw system call instruction of
 * its own, and prints what the kernel returned.
 *
 * Freestanding (no libc): built static by scripts/guest-images.sh
 * (--with-newcalls) with Debian's clang and lld for each guest's ABI, the
 * call numbers, structures and flags taken from Linux 6.12's UAPI headers
 * (linux-libc-dev 6.12 from bookworm-backports, which carries every
 * architecture's <asm/unistd.h>): nothing here is a hand-typed number.
 * `cargo xtask qemu-test` runs it in the guests and compares its lines with
 * the syscalls2 QEMU plugin's trace of the same run.
 *
 * Output, one write per line:
 *   S2NEW-BEGIN <abi> ENOSYS=<n>   the ABI (the table's arch: x64, x86,
 *                                  arm, arm64, mips, mips64, mips64n32)
 *                                  and that ABI's ENOSYS
 *   S2NEW <abi> <call> <no> <ret>  the call (strace's name), its number,
 *                                  and what it returned: >= 0, or -errno
 *   S2NEW-END <abi> <calls>        the number of S2NEW lines before it
 */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/types.h>

#if defined(__x86_64__)
#define ABI "x64"
#elif defined(__i386__)
#define ABI "x86"
#elif defined(__aarch64__)
#define ABI "arm64"
#elif defined(__arm__)
#define ABI "arm"
#elif defined(__mips__) && _MIPS_SIM == _ABIO32
#define ABI "mips"
#elif defined(__mips__) && _MIPS_SIM == _ABI64
#define ABI "mips64"
#elif defined(__mips__) && _MIPS_SIM == _ABIN32
#define ABI "mips64n32"
#elif defined(__riscv) && __riscv_xlen == 64
#define ABI "riscv64"
#else
#error "newcalls.c: an ABI it does not know"
#endif

/* ---- raw system calls: up to six arguments, the result or -errno ------- */

#if defined(__x86_64__)
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
__asm__(".text\n.globl _start\n_start:\n\txor %rbp, %rbp\n\tand $-16, %rsp\n\tcall s2main\n\thlt\n");
#elif defined(__i386__)
/* Five arguments in registers (the sixth, EBP, is not needed: mmap goes
 * through old_mmap's argument block, below). */
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    (void)f;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                     : "memory");
    return ret;
}
__asm__(".text\n.globl _start\n_start:\n\txor %ebp, %ebp\n\tand $-16, %esp\n\tcall s2main\n\thlt\n");
#elif defined(__aarch64__)
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}
__asm__(".text\n.globl _start\n_start:\n\tmov x29, #0\n\tmov x30, #0\n\tbl s2main\n1:\tb 1b\n");
#elif defined(__arm__)
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r7 __asm__("r7") = n;
    register long r0 __asm__("r0") = a;
    register long r1 __asm__("r1") = b;
    register long r2 __asm__("r2") = c;
    register long r3 __asm__("r3") = d;
    register long r4 __asm__("r4") = e;
    register long r5 __asm__("r5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(r0)
                     : "r"(r7), "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5)
                     : "memory");
    return r0;
}
__asm__(".text\n.globl _start\n_start:\n\tmov fp, #0\n\tbic sp, sp, #15\n\tbl s2main\n1:\tb 1b\n");
#elif defined(__mips__) && _MIPS_SIM == _ABIO32
/* o32: four arguments in $4..$7, the fifth and sixth on the stack at 16
 * and 20 ($sp); $7 says whether $2 is an errno. */
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r2 __asm__("$2") = n;
    register long r4 __asm__("$4") = a;
    register long r5 __asm__("$5") = b;
    register long r6 __asm__("$6") = c;
    register long r7 __asm__("$7") = d;
    __asm__ volatile("addiu $sp, $sp, -32\n\t"
                     "sw %6, 16($sp)\n\t"
                     "sw %7, 20($sp)\n\t"
                     "syscall\n\t"
                     "addiu $sp, $sp, 32"
                     : "+r"(r2), "+r"(r7)
                     : "r"(r4), "r"(r5), "r"(r6), "r"(r7), "r"(e), "r"(f)
                     : "$1", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25",
                       "hi", "lo", "memory");
    return r7 ? -r2 : r2;
}
__asm__(".text\n.globl __start\n.globl _start\n.set noreorder\n__start:\n_start:\n"
        "\tli $ra, 0\n\taddiu $sp, $sp, -32\n\tjal s2main\n\tnop\n1:\tb 1b\n\tnop\n.set reorder\n");
#elif defined(__mips__)
/* n64 and n32: six arguments in $4..$9; $7 says whether $2 is an errno. */
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r2 __asm__("$2") = n;
    register long r4 __asm__("$4") = a;
    register long r5 __asm__("$5") = b;
    register long r6 __asm__("$6") = c;
    register long r7 __asm__("$7") = d;
    register long r8 __asm__("$8") = e;
    register long r9 __asm__("$9") = f;
    __asm__ volatile("syscall"
                     : "+r"(r2), "+r"(r7)
                     : "r"(r4), "r"(r5), "r"(r6), "r"(r8), "r"(r9)
                     : "$1", "$3", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25", "hi", "lo",
                       "memory");
    return r7 ? -r2 : r2;
}
__asm__(".text\n.globl __start\n.globl _start\n.set noreorder\n__start:\n_start:\n"
        "\tli $ra, 0\n\tdaddiu $sp, $sp, -32\n\tjal s2main\n\tnop\n1:\tb 1b\n\tnop\n.set reorder\n");
#elif defined(__riscv)
/* ecall: the number in a7, six arguments in a0..a5, the result in a0. */
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    register long a7 __asm__("a7") = n;
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a3 __asm__("a3") = d;
    register long a4 __asm__("a4") = e;
    register long a5 __asm__("a5") = f;
    __asm__ volatile("ecall"
                     : "+r"(a0)
                     : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5)
                     : "memory");
    return a0;
}
__asm__(".text\n.globl _start\n_start:\n\tli fp, 0\n\tli ra, 0\n\tandi sp, sp, -16\n\tcall s2main\n1:\tj 1b\n");
#endif

#define SC(n, a, b, c, d) sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* ---- output -------------------------------------------------------------- */

static char line[256];
static unsigned len;

static void put(const char *s)
{
    while (*s && len < sizeof line - 1)
        line[len++] = *s++;
}

static void put_num(long v)
{
    char digits[24];
    int n = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    if (v < 0)
        put("-");
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n > 0 && len < sizeof line - 1)
        line[len++] = digits[--n];
}

static void flush(void)
{
    put("\n");
    SC(__NR_write, 1, line, len, 0);
    len = 0;
}

static int reported;

static long report(const char *call, long no, long ret)
{
    put("S2NEW " ABI " ");
    put(call);
    put(" ");
    put_num(no);
    put(" ");
    put_num(ret);
    flush();
    reported++;
    return ret;
}

/* ---- the calls ----------------------------------------------------------- */

/* A fresh anonymous mapping of 64 KiB (a whole number of pages for 4, 16
 * and 64 KiB pages), or 0. */
static void *fresh_mapping(void)
{
    long p;
#if defined(__i386__)
    /* old_mmap: the six arguments in memory. */
    unsigned long block[6] = {0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              (unsigned long)-1, 0};
    p = SC(__NR_mmap, block, 0, 0, 0);
#elif defined(__NR_mmap2)
    p = sc6(__NR_mmap2, 0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#else
    p = sc6(__NR_mmap, 0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#endif
    return p < 0 && p > -4096 ? 0 : (void *)p;
}

static __u32 futex_word;
static __u64 ids[64];
static __u64 statmount_buf[512];

void s2main(void)
{
    static const char path[] = "/tmp/s2new";
    static const char link[] = "/tmp/s2new-link";

    put("S2NEW-BEGIN " ABI " ENOSYS=");
    put_num(ENOSYS);
    flush();

    long fd = SC(__NR_openat, AT_FDCWD, path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd >= 0)
        SC(__NR_write, fd, "cached\n", 7, 0);
    SC(__NR_symlinkat, path, AT_FDCWD, link, 0);

    /* fchmodat2: on the file, and with AT_SYMLINK_NOFOLLOW on a link. */
    report("fchmodat2", __NR_fchmodat2, SC(__NR_fchmodat2, AT_FDCWD, path, 0644, 0));
    report("fchmodat2", __NR_fchmodat2,
           SC(__NR_fchmodat2, AT_FDCWD, link, 0600, AT_SYMLINK_NOFOLLOW));

    /* cachestat: the whole file's page cache. */
    struct cachestat_range range = {0, 0};
    struct cachestat cs;
    report("cachestat", __NR_cachestat, SC(__NR_cachestat, fd, &range, &cs, 0));

    /* futex_wake: nobody waits on the word. */
    report("futex_wake", __NR_futex_wake,
           SC(__NR_futex_wake, &futex_word, FUTEX_BITSET_MATCH_ANY, 1,
              FUTEX2_SIZE_U32 | FUTEX2_PRIVATE));

    /* listmount: the mounts under the root; statmount: the first one. */
    struct mnt_id_req req = {0};
    req.size = MNT_ID_REQ_SIZE_VER0;
    req.mnt_id = LSMT_ROOT;
    long n = report("listmount", __NR_listmount,
                    SC(__NR_listmount, &req, ids, sizeof ids / sizeof ids[0], 0));
    req.mnt_id = n > 0 ? ids[0] : LSMT_ROOT;
    req.param = STATMOUNT_SB_BASIC | STATMOUNT_MNT_BASIC;
    report("statmount", __NR_statmount,
           SC(__NR_statmount, &req, statmount_buf, sizeof statmount_buf, 0));

    /* lsm_list_modules: the kernel's security modules. */
    __u32 size = sizeof ids;
    report("lsm_list_modules", __NR_lsm_list_modules,
           SC(__NR_lsm_list_modules, ids, &size, 0, 0));

    /* mseal: a fresh mapping of its own. */
    void *page = fresh_mapping();
    report("mseal", __NR_mseal, SC(__NR_mseal, page, page ? 65536 : 0, 0, 0));

    put("S2NEW-END " ABI " ");
    put_num(reported);
    flush();
    SC(__NR_exit_group, 0, 0, 0, 0);
    for (;;)
        ;
}
