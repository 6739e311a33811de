package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The reliability suite on epoll. */
@LeakChecked
class EpollReliabilityTest extends ReliabilitySuite {
    @Override
    Backend backend() {
        return Backend.EPOLL;
    }
}
