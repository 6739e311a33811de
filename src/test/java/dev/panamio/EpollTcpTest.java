package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The TCP suite on epoll. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class EpollTcpTest extends TcpSuite {
    @Override
    Backend backend() {
        return Backend.EPOLL;
    }
}
