package dev.panamio.sys.linux.epoll;

import dev.panamio.sys.Sockets;
import dev.panamio.sys.linux.LinuxSockets;
import dev.panamio.sys.linux.LinuxSys;

/**
 * Linux sockets for the epoll backend: every new socket (created, or accepted) is registered once with the
 * epoll instance, and forgotten when closed.
 */
final class EpollSockets extends LinuxSockets {
    private final EpollBackend backend;

    EpollSockets(EpollBackend backend, LinuxSys sys) {
        super(sys);
        this.backend = backend;
    }

    @Override
    protected int onOpen(int fd) {
        return backend.register(fd);
    }

    @Override
    public int close(long handle) {
        backend.forget((int) handle);
        return super.close(handle);
    }

}
