package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The TCP suite on io_uring. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class IoUringTcpTest extends TcpSuite {
    @Override
    Backend backend() {
        return Backend.IO_URING;
    }
}
