package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The reliability suite on epoll. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class EpollReliabilityTest extends ReliabilitySuite {
    @Override
    Backend backend() {
        return Backend.EPOLL;
    }
}
