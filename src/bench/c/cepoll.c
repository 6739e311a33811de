/*
 * The ceiling: a single-threaded, edge-triggered, non-blocking epoll server in C doing the same job as the
 * Java servers. Usage: cepoll PORT http|echo
 *   http: answers every complete request ("\r\n\r\n") in each read, in order, with a fixed 13-byte body.
 *   echo: writes back what it reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
#define RESPONSE_LEN (sizeof(RESPONSE) - 1)
#define BUF 16384
#define MAXFD 65536

struct conn {
    int state;          /* http: how many bytes of "\r\n\r\n" matched at the end of the last read */
    char *pending;      /* bytes not yet written */
    size_t plen, pcap;
};

static struct conn conns[MAXFD];
static int http;

static void close_conn(int fd) {
    free(conns[fd].pending);
    memset(&conns[fd], 0, sizeof conns[fd]);
    close(fd);
}

static int flush(int fd) {
    struct conn *c = &conns[fd];
    size_t off = 0;
    while (off < c->plen) {
        ssize_t n = send(fd, c->pending + off, c->plen - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) break;
            return -1;
        }
        off += (size_t) n;
    }
    memmove(c->pending, c->pending + off, c->plen - off);
    c->plen -= off;
    return 0;
}

static void queue(int fd, const char *p, size_t n) {
    struct conn *c = &conns[fd];
    if (c->plen + n > c->pcap) {
        c->pcap = (c->plen + n) * 2;
        c->pending = realloc(c->pending, c->pcap);
    }
    memcpy(c->pending + c->plen, p, n);
    c->plen += n;
}

static int on_readable(int fd) {
    static char buf[BUF];
    static char out[BUF / 4 * RESPONSE_LEN];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) return -1;
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        if (!http) {
            queue(fd, buf, (size_t) n);
        } else {
            int state = conns[fd].state;
            size_t o = 0;
            for (ssize_t i = 0; i < n; i++) {
                char ch = buf[i];
                if (ch == '\r') state = (state == 2) ? 3 : 1;
                else if (ch == '\n' && state == 1) state = 2;
                else if (ch == '\n' && state == 3) {
                    memcpy(out + o, RESPONSE, RESPONSE_LEN);
                    o += RESPONSE_LEN;
                    state = 0;
                } else state = 0;
            }
            conns[fd].state = state;
            if (o) queue(fd, out, o);
        }
        if (flush(fd) < 0) return -1;
        if (n < (ssize_t) sizeof buf) return 0;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: cepoll PORT http|echo\n");
        return 2;
    }
    http = strcmp(argv[2], "http") == 0;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short) atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr *) &a, sizeof a) || listen(ls, 4096)) {
        perror("bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event events[1024];
    for (;;) {
        int n = epoll_wait(ep, events, 1024, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if (c >= MAXFD) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            int bad = 0;
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) bad = on_readable(fd) < 0;
            if (!bad && (events[i].events & EPOLLOUT) && conns[fd].plen) bad = flush(fd) < 0;
            if (bad) close_conn(fd);
        }
    }
}
