/*
 * acceptor: libwebsockets 4.1.6's LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE does nothing with one service
 * thread, so the bridge opens its listening socket itself, with SO_REUSEPORT: several bridges on one
 * host share the port and the kernel spreads connections among them. Each accepted socket is
 * adopted by the vhost, which then treats it exactly as one it had accepted (HTTP, TLS, upgrade).
 */
#include "acceptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "log.h"
#include "server.h"
#include "metrics.h"

#define ACCEPT_PER_WAKEUP 64 /* a burst of connects must not starve the rest of the loop */
#define PAUSE_MS 100          /* out of descriptors: how long to leave the backlog alone */

struct acceptor {
    uv_poll_t poll;
    uv_timer_t pause;
    int fd;
    int handles_open;
    uint64_t warned_at_ms;
    struct bridge *br;
};

/*
 * A socket adopted here carries this marker as its opaque user data until its first request is
 * complete (an HTTP request, or an upgrade to decide), so /metrics can tell how many connections
 * sit unauthenticated and how many --handshake-timeout dropped.
 */
static char handshake_marker;

bool acceptor_handshake_end(struct lws *wsi, bool abandoned)
{
    if (lws_get_opaque_user_data(wsi) != &handshake_marker)
        return false;
    lws_set_opaque_user_data(wsi, NULL);
    metrics_handshake_end(abandoned);
    return true;
}

static void on_readable(uv_poll_t *h, int status, int events);

static void resume(uv_timer_t *t)
{
    struct acceptor *a = t->data;
    uv_poll_start(&a->poll, UV_READABLE, on_readable);
}

/* With no descriptor left, the pending connection stays in the backlog and the socket stays
 * readable: polling on would spin the loop. Pause, and let connections that end free some. */
static void pause_accepting(struct acceptor *a)
{
    uint64_t now = uv_now(&a->br->loop);
    if (a->warned_at_ms == 0 || now - a->warned_at_ms >= 10000) {
        log_warn("accept_paused", "error=\"%s\" pause_ms=%d hint=\"raise ulimit -n or lower --max-connections\"",
                 strerror(errno), PAUSE_MS);
        a->warned_at_ms = now;
    }
    uv_poll_stop(&a->poll);
    uv_timer_start(&a->pause, resume, PAUSE_MS, 0);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    struct acceptor *a = h->data;
    (void)events;
    if (status < 0)
        return;
    for (int i = 0; i < ACCEPT_PER_WAKEUP; i++) {
        int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(a);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_warn("accept_failed", "error=\"%s\"", strerror(errno));
            return;
        }
        /* Nagle would hold the second of two back-to-back frames (a reply, then the sender's own
         * event) until the client's delayed ACK: 40 ms. lws sets this only on sockets it accepts. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct lws *wsi = a->br->vhost ? lws_adopt_socket_vhost(a->br->vhost, fd) : NULL;
        if (wsi) {
            lws_set_opaque_user_data(wsi, &handshake_marker);
            metrics_handshake_begin();
        }
        else
            close(fd); /* lws logged why; the peer sees a reset */
    }
}

static int bind_socket(const char *host, int port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
                    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
                    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0)) {
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

struct acceptor *acceptor_open(struct bridge *br)
{
    struct acceptor *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->br = br;
    a->fd = bind_socket(br->cfg.host, br->cfg.port);
    if (a->fd < 0) {
        log_error("listen_failed", "host=%s port=%d error=\"%s\"", br->cfg.host, br->cfg.port, strerror(errno));
        free(a);
        return NULL;
    }
    uv_poll_init(&br->loop, &a->poll, a->fd);
    uv_timer_init(&br->loop, &a->pause);
    a->poll.data = a->pause.data = a;
    a->handles_open = 2;
    uv_poll_start(&a->poll, UV_READABLE, on_readable);
    return a;
}

static void closed(uv_handle_t *h)
{
    struct acceptor *a = h->data;
    if (--a->handles_open > 0)
        return;
    close(a->fd);
    free(a);
}

void acceptor_close(struct acceptor *a)
{
    if (!a)
        return;
    uv_poll_stop(&a->poll);
    uv_close((uv_handle_t *)&a->poll, closed);
    uv_close((uv_handle_t *)&a->pause, closed);
}
