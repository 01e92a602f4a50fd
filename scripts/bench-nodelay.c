/* Preloaded into s3s-fs by scripts/bench (s3s-fs does not set TCP_NODELAY, Coffer does):
 * every accepted socket gets TCP_NODELAY, so both servers are measured without Nagle's
 * delay on small answers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
    int on = 1;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real) real = dlsym(RTLD_NEXT, "accept4");
    int conn = real(fd, addr, len, flags);
    nodelay(conn);
    return conn;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real) real = dlsym(RTLD_NEXT, "accept");
    int conn = real(fd, addr, len);
    nodelay(conn);
    return conn;
}
