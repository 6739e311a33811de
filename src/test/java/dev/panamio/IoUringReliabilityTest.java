package dev.panamio;

import dev.panamio.testing.LeakChecked;

/** The reliability suite on io_uring. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class IoUringReliabilityTest extends ReliabilitySuite {
    @Override
    Backend backend() {
        return Backend.IO_URING;
    }
}
