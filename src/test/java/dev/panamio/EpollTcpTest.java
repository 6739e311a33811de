package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The TCP suite on epoll. */
@LeakChecked
class EpollTcpTest extends TcpSuite {
    @Override
    Backend backend() {
        return Backend.EPOLL;
    }
}
