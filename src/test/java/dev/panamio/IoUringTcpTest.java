package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The TCP suite on io_uring. */
@LeakChecked
class IoUringTcpTest extends TcpSuite {
    @Override
    Backend backend() {
        return Backend.IO_URING;
    }
}
