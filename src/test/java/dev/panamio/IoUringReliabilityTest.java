package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The reliability suite on io_uring. */
@LeakChecked
class IoUringReliabilityTest extends ReliabilitySuite {
    @Override
    Backend backend() {
        return Backend.IO_URING;
    }
}
