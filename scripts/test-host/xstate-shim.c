/*
 * Preloaded into the user-mode kernel on hosts whose CPUs have AMX (or any
 * other state that makes the host's XSAVE area larger than the one the
 * user-mode kernel sizes for its processes). The host kernel takes an
 * NT_X86_XSTATE register set only whole (PTRACE_SETREGSET fails with EFAULT
 * otherwise: "userspace - ptrace set fp regs failed, errno = 14"). This
 * fetches and stores the whole area and hands the user-mode kernel the part
 * it asked for; the rest (state its processes have no permission to use) is
 * written back as it was.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

#define PTRACE_GETREGSET 0x4204
#define PTRACE_SETREGSET 0x4205
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* Larger than any XSAVE area of today's CPUs (AMX: 11008 bytes). */
#define WHOLE (64 * 1024)

static long (*real_ptrace)(int, pid_t, void *, void *);

long ptrace(int request, ...)
{
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);
    if (!real_ptrace)
        real_ptrace = (long (*)(int, pid_t, void *, void *))dlsym(RTLD_NEXT, "ptrace");
    if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) ||
        (uintptr_t)addr != NT_X86_XSTATE)
        return real_ptrace(request, pid, addr, data);
    struct iovec *asked = data;
    static _Thread_local unsigned char whole[WHOLE] __attribute__((aligned(64)));
    struct iovec all = {whole, sizeof whole};
    long ret = real_ptrace(PTRACE_GETREGSET, pid, addr, &all);
    if (ret != 0 || all.iov_len <= asked->iov_len)
        return real_ptrace(request, pid, addr, data);
    if (request == PTRACE_GETREGSET) {
        memcpy(asked->iov_base, whole, asked->iov_len);
        return 0;
    }
    memcpy(whole, asked->iov_base, asked->iov_len);
    return real_ptrace(PTRACE_SETREGSET, pid, addr, &all);
}
