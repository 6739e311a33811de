package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The TCP suite on IOCP (the windows-latest CI job runs it). */
@LeakChecked
@EnabledOnOs(OS.WINDOWS)
class IocpTcpTest extends TcpSuite {
    @Override
    Backend backend() {
        return Backend.IOCP;
    }
}
