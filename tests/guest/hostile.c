/*
 * hostile: a guest program that tries to hide its system calls from a
 * tracer, and says what it really did.
 *
 * Built static on the host by scripts/guest-images.sh (Debian's gcc for
 * x86_64, gcc-i686-linux-gnu for i386) into the `<arch>-hostile` guest
 * image; run there by `cargo xtask hostile`, which compares what this
 * program prints with the syscalls2 QEMU plugin's trace of the same run.
 *
 * Every call it reports is made with a raw system call instruction of its
 * own (no libc wrapper in between), at a few known addresses:
 *   - one `syscall` (x86_64) / `int $0x80` (i386) in raw(), used by every
 *     thread, signal handlers included;
 *   - a vfork+execve sequence written in assembly (the child touches no
 *     stack before it execs);
 *   - generated code: thousands of `syscall; ret` stubs written into an
 *     RWX mapping, each one's return site executed before its syscall (a
 *     tracer that learns return sites at translation must not flush its
 *     code cache for each), then the mapping rewritten with other stubs
 *     and run again (a JIT reusing its memory).
 * The calls: unknown numbers, numbers with bits the kernel ignores
 * (x86_64 uses the low 32 bits of RAX: (1UL << 32) | __NR_openat opens a
 * file), bad pointers, a 1 MiB path, a path running into an unmapped page,
 * threads at one call site, blocking reads interrupted by signals (with
 * SA_RESTART, so the kernel restarts them, and without, so they fail with
 * EINTR), a system call inside a signal handler that interrupted one, a
 * failing execve, vfork + execve of itself.
 *
 * Output, at the end (one write per chunk of lines, after the threads and
 * the child are done):
 *   HOSTILE <pc> <no> <name> <ret> <count>
 *     `count` calls made at the instruction at <pc> (hex), which the kernel
 *     ran as call <no> (the number it decoded; `name` is `-` for a number
 *     the kernel does not know) and which returned <ret>; <ret> is `?` for
 *     a call that did not return (a successful execve);
 *   HOSTILE-STATS <key> <value>    facts the test reads (signals handled)
 *   HOSTILE-END <pid> <calls>      the number of calls reported by <pid>
 * The exec'd child prints its own lines, with its own pid, before the
 * parent's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(__i386__)
#error "hostile.c knows the syscall instructions of x86_64 and i386 only"
#endif

/* ---- raw system calls -------------------------------------------------- */

extern char hostile_site[];      /* the syscall instruction of raw() */
extern char hostile_vfork_site[];/* vfork_exec(): the vfork */
extern char hostile_vexec_site[];/* vfork_exec(): the child's execve */

#if defined(__x86_64__)
/* The kernel's view of a number: Linux 6.1 x86_64 reads only EAX. */
#define KERNEL_NO(nr) ((unsigned long)(nr) & 0xffffffffUL)
__attribute__((noinline, noclone)) static long raw(unsigned long nr, long a1, long a2, long a3,
                                                  long a4, long a5)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile(".globl hostile_site\nhostile_site: syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}
/* pid_t vfork_exec(path, argv, envp): vfork; the child execve()s at once,
 * using registers only (it shares the parent's stack), and exits 127 if the
 * execve fails. Returns the child's pid (or -errno) in the parent. */
long vfork_exec(const char *path, char *const argv[], char *const envp[]);
__asm__(".text\n.globl vfork_exec\nvfork_exec:\n"
        "  mov $" "58" ", %eax\n" /* __NR_vfork */
        ".globl hostile_vfork_site\nhostile_vfork_site: syscall\n"
        "  test %rax, %rax\n  jnz 1f\n"
        "  mov $" "59" ", %eax\n" /* __NR_execve; rdi, rsi, rdx are the arguments */
        ".globl hostile_vexec_site\nhostile_vexec_site: syscall\n"
        "  mov $" "231" ", %eax\n  mov $127, %edi\n  syscall\n" /* exit_group */
        "1: ret\n");
_Static_assert(__NR_vfork == 58 && __NR_execve == 59 && __NR_exit_group == 231, "x86_64 numbers");
/* A generated stub: syscall; ret. Its return site is at offset 2. */
static const unsigned char STUB[] = {0x0f, 0x05, 0xc3};
#define STUB_RET 2
static long call_stub(void *stub, unsigned long nr, long a1)
{
    long ret;
    __asm__ volatile("call *%1" : "=a"(ret) : "r"(stub), "a"(nr), "D"(a1)
                     : "rcx", "r11", "rdx", "rsi", "r8", "r9", "r10", "memory");
    return ret;
}
#else /* __i386__ */
#define KERNEL_NO(nr) ((unsigned long)(nr))
__attribute__((noinline, noclone)) static long raw(unsigned long nr, long a1, long a2, long a3,
                                                  long a4, long a5)
{
    long ret;
    __asm__ volatile(".globl hostile_site\nhostile_site: int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
                     : "memory");
    return ret;
}
long vfork_exec(const char *path, char *const argv[], char *const envp[]);
__asm__(".text\n.globl vfork_exec\nvfork_exec:\n"
        "  push %ebx\n"
        "  mov 8(%esp), %ebx\n  mov 12(%esp), %ecx\n  mov 16(%esp), %edx\n"
        "  mov $" "190" ", %eax\n" /* __NR_vfork */
        ".globl hostile_vfork_site\nhostile_vfork_site: int $0x80\n"
        "  test %eax, %eax\n  jnz 1f\n"
        "  mov $" "11" ", %eax\n" /* __NR_execve */
        ".globl hostile_vexec_site\nhostile_vexec_site: int $0x80\n"
        "  mov $" "252" ", %eax\n  mov $127, %ebx\n  int $0x80\n" /* exit_group */
        "1: pop %ebx\n  ret\n");
_Static_assert(__NR_vfork == 190 && __NR_execve == 11 && __NR_exit_group == 252, "i386 numbers");
static const unsigned char STUB[] = {0xcd, 0x80, 0xc3};
#define STUB_RET 2
static long call_stub(void *stub, unsigned long nr, long a1)
{
    long ret;
    __asm__ volatile("call *%1" : "=a"(ret) : "r"(stub), "a"(nr), "b"(a1)
                     : "ecx", "edx", "memory");
    return ret;
}
#endif

/* ---- what the program saw ---------------------------------------------- */

struct rec {
    uintptr_t pc;
    unsigned long no;
    const char *name; /* NULL: a number the kernel does not know */
    long ret;
    int returned;
};

#define MAX_RECS 32768
static struct rec recs[MAX_RECS];
static unsigned nrecs; /* taken atomically: threads and signal handlers record */

static void record_at(uintptr_t pc, unsigned long no, const char *name, long ret, int returned)
{
    unsigned i = __atomic_fetch_add(&nrecs, 1, __ATOMIC_RELAXED);
    if (i >= MAX_RECS) {
        static const char msg[] = "hostile: too many records\n";
        if (write(2, msg, sizeof msg - 1) < 0) _exit(4);
        _exit(3);
    }
    recs[i] = (struct rec){pc, no, name, ret, returned};
}

/* A raw call through raw(), recorded. */
static long sys(unsigned long nr, const char *name, long a1, long a2, long a3, long a4, long a5)
{
    long ret = raw(nr, a1, a2, a3, a4, a5);
    record_at((uintptr_t)hostile_site, KERNEL_NO(nr), name, ret, 1);
    return ret;
}
#define SYS(n, ...) sys(__NR_##n, #n, __VA_ARGS__)
#define ARGS5(a, b, c, d, e) (long)(a), (long)(b), (long)(c), (long)(d), (long)(e)

static int cmp_rec(const void *x, const void *y)
{
    const struct rec *a = x, *b = y;
    if (a->pc != b->pc) return a->pc < b->pc ? -1 : 1;
    if (a->no != b->no) return a->no < b->no ? -1 : 1;
    if (a->returned != b->returned) return a->returned - b->returned;
    if (a->ret != b->ret) return a->ret < b->ret ? -1 : 1;
    return 0;
}

static char out[1 << 16];
static size_t outlen;

static void flush_out(void)
{
    size_t done = 0;
    while (done < outlen) {
        ssize_t n = write(1, out + done, outlen - done);
        if (n <= 0) _exit(4);
        done += (size_t)n;
    }
    outlen = 0;
}

static void outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void outf(const char *fmt, ...)
{
    va_list ap;
    if (outlen > sizeof out - 256) flush_out();
    va_start(ap, fmt);
    outlen += (size_t)vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
    va_end(ap);
}

static void report(void)
{
    unsigned n = nrecs, i, j;
    qsort(recs, n, sizeof recs[0], cmp_rec);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && cmp_rec(&recs[i], &recs[j]) == 0; j++)
            ;
        const struct rec *r = &recs[i];
        if (r->returned)
            outf("HOSTILE 0x%lx %lu %s %ld %u\n", (unsigned long)r->pc, r->no,
                 r->name ? r->name : "-", r->ret, j - i);
        else
            outf("HOSTILE 0x%lx %lu %s ? %u\n", (unsigned long)r->pc, r->no,
                 r->name ? r->name : "-", j - i);
    }
    outf("HOSTILE-END %d %u\n", getpid(), n);
    flush_out();
}

static void die(const char *what)
{
    fprintf(stderr, "hostile: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* ---- the attacks --------------------------------------------------------- */

static int devnull;

/* Numbers the kernel does not know, and known ones in disguise. */
static void numbers(void)
{
    static const unsigned long unknown[] = {1000, 0x7fffffffUL, 0x1ffffUL, 4095};
    for (unsigned i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        for (int k = 0; k < 5; k++)
            sys(unknown[i], NULL, 0, 0, 0, 0, 0);
#if defined(__x86_64__)
    /* The kernel ignores the upper half: this is openat, and opens. */
    unsigned long disguised = (1UL << 32) | __NR_openat;
    for (int k = 0; k < 5; k++) {
        long fd = sys(disguised, "openat", ARGS5(AT_FDCWD, "/etc/hostname", O_RDONLY, 0, 0));
        if (fd < 0) {
            fprintf(stderr, "hostile: disguised openat failed: %ld\n", fd);
            exit(2);
        }
        SYS(close, ARGS5(fd, 0, 0, 0, 0));
    }
    /* An unknown number in disguise. */
    for (int k = 0; k < 5; k++)
        sys((1UL << 32) | 1000, NULL, 0, 0, 0, 0, 0);
    /* getpid with garbage in the upper half. */
    for (int k = 0; k < 5; k++)
        sys(0xdead000000000000UL | __NR_getpid, "getpid", 0, 0, 0, 0, 0);
#endif
}

/* Pointers the kernel cannot read, and strings too long to read. */
static void pointers(void)
{
    int p[2];
    if (pipe(p)) die("pipe");
    for (int k = 0; k < 5; k++) {
        SYS(openat, ARGS5(AT_FDCWD, 1, O_RDONLY, 0, 0));
        SYS(openat, ARGS5(AT_FDCWD, -4096L, O_RDONLY, 0, 0));
        SYS(write, ARGS5(p[1], 0xdead0000UL, 100, 0, 0));
        SYS(read, ARGS5(devnull, 8, 1 << 20, 0, 0));
    }
    /* A 1 MiB path. */
    size_t huge = 1 << 20;
    char *s = malloc(huge + 1);
    if (!s) die("malloc");
    memset(s, 'a', huge);
    s[huge] = 0;
    for (int k = 0; k < 5; k++) {
        SYS(openat, ARGS5(AT_FDCWD, s, O_RDONLY, 0, 0));
        SYS(write, ARGS5(devnull, s, huge, 0, 0));
    }
    free(s);
    /* A path that runs into an unmapped page, with no terminator. */
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (two == MAP_FAILED) die("mmap");
    if (munmap(two + 4096, 4096)) die("munmap");
    memset(two, '/', 4096);
    for (int k = 0; k < 5; k++)
        SYS(openat, ARGS5(AT_FDCWD, two + 4096 - 100, O_RDONLY, 0, 0));
    close(p[0]);
    close(p[1]);
}

/* Threads at one call site: each write's length names its thread and
 * turn, so a return paired with another thread's enter shows. */
#define THREADS 4
#define THREAD_CALLS 400
static char wbuf[THREADS * THREAD_CALLS + 1];

static void *writer(void *arg)
{
    long t = (long)arg;
    for (long i = 0; i < THREAD_CALLS; i++) {
        long n = t * THREAD_CALLS + i + 1;
        long r = SYS(write, ARGS5(devnull, wbuf, n, 0, 0));
        if (r != n) {
            fprintf(stderr, "hostile: write(%ld) = %ld\n", n, r);
            exit(2);
        }
        if (i % 16 == 0) SYS(sched_yield, ARGS5(0, 0, 0, 0, 0));
    }
    return NULL;
}

static void threads(void)
{
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, writer, (void *)t)) die("pthread_create");
    for (long t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
}

/* Blocking reads interrupted by signals. */
static volatile int handled_restart, handled_intr;
static int sigpipe[2];
static volatile pid_t reader_tid;
static volatile int reader_state; /* 0 starting, 1 reading, 2 done */
#define RESTART_ROUNDS 40
#define INTR_ROUNDS 20

static void on_usr1(int sig)
{
    (void)sig;
    handled_restart++;
    /* A system call made while another (the read) is interrupted. */
    SYS(getppid, ARGS5(0, 0, 0, 0, 0));
}

static void on_usr2(int sig)
{
    (void)sig;
    handled_intr++;
}

static void *reader(void *arg)
{
    (void)arg;
    char c;
    reader_tid = (pid_t)SYS(gettid, ARGS5(0, 0, 0, 0, 0));
    for (int i = 0; i < RESTART_ROUNDS; i++) {
        __atomic_store_n(&reader_state, 1, __ATOMIC_SEQ_CST);
        long r = SYS(read, ARGS5(sigpipe[0], &c, 1, 0, 0));
        if (r != 1) {
            fprintf(stderr, "hostile: restarted read = %ld\n", r);
            exit(2);
        }
    }
    /* Without SA_RESTART: each read ends with EINTR. */
    for (int i = 0; i < INTR_ROUNDS; i++) {
        int before = handled_intr;
        __atomic_store_n(&reader_state, 1, __ATOMIC_SEQ_CST);
        long r;
        do
            r = SYS(read, ARGS5(sigpipe[0], &c, 1, 0, 0));
        while (r != -EINTR || handled_intr == before);
    }
    __atomic_store_n(&reader_state, 2, __ATOMIC_SEQ_CST);
    return NULL;
}

static void signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGUSR1, &sa, NULL)) die("sigaction");
    sa.sa_handler = on_usr2;
    sa.sa_flags = 0;
    if (sigaction(SIGUSR2, &sa, NULL)) die("sigaction");
    if (pipe(sigpipe)) die("pipe");
    pthread_t th;
    if (pthread_create(&th, NULL, reader, NULL)) die("pthread_create");
    while (!reader_tid) sched_yield();
    pid_t pid = getpid();
    for (int i = 0; i < RESTART_ROUNDS; i++) {
        while (__atomic_load_n(&reader_state, __ATOMIC_SEQ_CST) != 1) sched_yield();
        __atomic_store_n(&reader_state, 0, __ATOMIC_SEQ_CST);
        for (int k = 0; k < 5; k++) {
            SYS(tgkill, ARGS5(pid, reader_tid, SIGUSR1, 0, 0));
            sched_yield();
        }
        SYS(write, ARGS5(sigpipe[1], "x", 1, 0, 0));
    }
    while (__atomic_load_n(&reader_state, __ATOMIC_SEQ_CST) != 2) {
        SYS(tgkill, ARGS5(pid, reader_tid, SIGUSR2, 0, 0));
        sched_yield();
    }
    pthread_join(th, NULL);
}

/* vfork + execve of this program, and an execve that fails. */
static void exec_child(const char *self)
{
    char *argv[] = {(char *)"hostile", (char *)"child", NULL};
    char *envp[] = {NULL};
    SYS(execve, ARGS5("/nonexistent/hostile", argv, envp, 0, 0));
    long pid = vfork_exec(self, argv, envp);
    if (pid < 0) {
        fprintf(stderr, "hostile: vfork = %ld\n", pid);
        exit(2);
    }
    record_at((uintptr_t)hostile_vfork_site, __NR_vfork, "vfork", pid, 1);
    record_at((uintptr_t)hostile_vfork_site, __NR_vfork, "vfork", 0, 1); /* in the child */
    int status = 0;
    long w = SYS(wait4, ARGS5(pid, &status, 0, 0, 0));
    if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "hostile: child %ld: wait4 = %ld, status %#x\n", pid, w, status);
        exit(2);
    }
}

/* Generated code. */
#define STUBS 5000
#define STUB_STRIDE 8
#define JIT_BASE 0x30000000UL

static void generated(void)
{
    size_t len = (size_t)STUBS * STUB_STRIDE;
    unsigned char *code = mmap((void *)JIT_BASE, len, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (code == MAP_FAILED) die("mmap rwx");
    for (int round = 0; round < 2; round++) {
        /* Round 1 rewrites the same memory with the stubs moved by 3 bytes. */
        size_t shift = round ? 3 : 0;
        memset(code, 0x90, len);
        for (int i = 0; i + 1 < STUBS; i++)
            memcpy(code + (size_t)i * STUB_STRIDE + shift, STUB, sizeof STUB);
        __builtin___clear_cache((char *)code, (char *)code + len);
        /* Each stub's return site runs first, then its syscall. */
        for (int i = 0; i + 1 < STUBS; i++) {
            unsigned char *stub = code + (size_t)i * STUB_STRIDE + shift;
            call_stub(stub + STUB_RET, 0, 0);
            long r = call_stub(stub, __NR_getpid, 0);
            record_at((uintptr_t)stub, __NR_getpid, "getpid", r, 1);
        }
    }
    if (munmap(code, len)) die("munmap");
}

static void child(void)
{
    /* The execve that brought us here did not return. */
    record_at((uintptr_t)hostile_vexec_site, __NR_execve, "execve", 0, 0);
    SYS(getppid, ARGS5(0, 0, 0, 0, 0));
    SYS(write, ARGS5(devnull, "child", 5, 0, 0));
    report();
}

int main(int argc, char **argv)
{
    devnull = open("/dev/null", O_RDWR);
    if (devnull < 0) die("/dev/null");
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        child();
        return 0;
    }
    numbers();
    pointers();
    threads();
    signals();
    exec_child("/proc/self/exe");
    generated();
    outf("HOSTILE-STATS signals_restart %d\nHOSTILE-STATS signals_intr %d\n", handled_restart,
         handled_intr);
    report();
    return 0;
}
